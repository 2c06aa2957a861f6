from __future__ import annotations

import pytest

from simulator.callers import press
from tests.simulator.apps import BANK, CALLER, TwimlApp, emulate, twiml


@pytest.mark.anyio
async def test_a_call_says_and_gathers() -> None:
    app = TwimlApp(
        {
            "/voice": lambda p: twiml(
                '<Gather action="/menu" numDigits="1"><Say language="cmn-CN">您好</Say></Gather>'
            ),
            "/menu": lambda p: twiml("<Say>bye</Say><Hangup/>"),
        }
    )
    async with emulate(app) as exchange:
        record = await exchange.call_in(from_=CALLER, to=BANK, script=[press("2")])
    assert record.said == ["您好", "bye"]
    assert app.to("/menu")[0]["Digits"] == "2"
