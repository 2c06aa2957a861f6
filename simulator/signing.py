"""Requests signed the way Twilio signs them, so the app's signature check runs for real."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from urllib.parse import urlencode

from twilio.request_validator import RequestValidator


def compute_signature(auth_token: str, url: str, params: Mapping[str, str]) -> str:
    """`X-Twilio-Signature` for a request to `url` (the public URL) with these POST params."""
    signature: str = RequestValidator(auth_token).compute_signature(url, dict(params))
    return signature


def form_encode(params: Mapping[str, str]) -> bytes:
    return urlencode(list(params.items())).encode()


def new_sid(prefix: str) -> str:
    """A Twilio-shaped SID: two letters and 32 hex digits."""
    return prefix + secrets.token_hex(16)
