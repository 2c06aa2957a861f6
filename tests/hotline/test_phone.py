from __future__ import annotations

import logging

import pytest

from hotline.logging import MaskPhoneNumbers
from hotline.phone import mask, mask_in_text, to_e164


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+8613812345678", "+8613812345678"),
        ("13812345678", "+8613812345678"),
        ("+1 (415) 555-0100", "+14155550100"),
        ("anonymous", None),
        ("", None),
        (None, None),
        ("+86", None),
        ("1" * 100, None),
    ],
)
def test_to_e164(raw: str | None, expected: str | None) -> None:
    assert to_e164(raw) == expected


def test_mask_keeps_country_prefix_and_last_four() -> None:
    assert mask("+8613812345678") == "+86138****5678"
    assert mask(None) == "-"


def test_log_lines_never_carry_a_number_in_clear(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("test.masking")
    logger.addFilter(MaskPhoneNumbers())
    with caplog.at_level(logging.INFO, logger="test.masking"):
        logger.info("call from %s to %s", "+8613812345678", "+864008895555")
    assert "+8613812345678" not in caplog.text
    assert "+86138****5678" in caplog.text
    assert mask_in_text("no numbers here 12345") == "no numbers here 12345"
