"""Phone numbers: E.164 in storage, masked in logs."""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers

# Long enough to be a phone number, short enough not to eat ids or timestamps.
_E164_IN_TEXT = re.compile(r"\+\d{8,15}")


# Parsing is slow (~50 µs) and a call sends the same numbers on every request.
@lru_cache(maxsize=8192)
def to_e164(raw: str | None, *, region: str = "CN") -> str | None:
    """The number in E.164, or None when it is absent, anonymous or not a possible number."""
    if not raw:
        return None
    text = raw.strip()
    if len(text) > 32:
        return None
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def mask(number: str | None) -> str:
    """`+8613812345678` -> `+86138****5678`: enough to tell calls apart, not to dial."""
    if not number:
        return "-"
    if len(number) <= 8:
        return number[:2] + "*" * max(len(number) - 2, 0)
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


def mask_in_text(text: str) -> str:
    return _E164_IN_TEXT.sub(lambda match: mask(match.group(0)), text)
