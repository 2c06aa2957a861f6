from __future__ import annotations

import pytest
from twilio.request_validator import RequestValidator

from simulator.callers import press
from simulator.signing import compute_signature, form_encode, new_sid
from tests.simulator.apps import BANK, CALLER, TwimlApp, emulate, twiml


def test_the_documented_vector() -> None:
    params = {
        "CallSid": "CA1234567890ABCDE",
        "Caller": "+12349013030",
        "Digits": "1234",
        "From": "+12349013030",
        "To": "+18005551212",
    }
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    assert compute_signature("12345", url, params) == "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
    assert RequestValidator("12345").validate(url, params, "0/KCTR6DLpKmkAf8muzZqo1nDgQ=")


def test_form_encoding_keeps_unicode_and_plus_signs() -> None:
    assert form_encode({"From": "+86138", "Body": "退订"}) == (
        b"From=%2B86138&Body=%E9%80%80%E8%AE%A2"
    )


def test_sids_look_like_twilios() -> None:
    sid = new_sid("CA")
    assert len(sid) == 34 and sid.startswith("CA") and int(sid[2:], 16) >= 0


@pytest.mark.anyio
async def test_every_webhook_the_emulator_sends_validates_post_and_get() -> None:
    app = TwimlApp(
        {
            "/voice": lambda p: twiml('<Gather action="/menu?lang=zh" method="GET"/>'),
            "/menu": lambda p: twiml("<Hangup/>"),
        }
    )
    async with emulate(app) as exchange:
        record = await exchange.call_in(from_=CALLER, to=BANK, script=[press("1")])
    # TwimlApp answers 403 to a bad signature, which would show up as error 11200.
    assert record.errors == []
    assert app.received[1].method == "GET"
    assert app.received[1].params["lang"] == "zh" and app.received[1].params["Digits"] == "1"
    assert app.received[0].headers["i-twilio-idempotency-token"]
