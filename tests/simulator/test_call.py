from __future__ import annotations

import pytest

from simulator.callers import press
from simulator.transcript import Played, Said
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


@pytest.mark.anyio
async def test_say_records_voice_and_language_and_pauses_use_simulated_time() -> None:
    app = TwimlApp(
        {
            "/voice": lambda p: twiml(
                '<Say voice="Polly.Hiujin-Neural" language="yue-CN">你好</Say>'
                '<Pause length="60"/><Play>/audio/bye.mp3</Play>'
            )
        }
    )
    async with emulate(app, speed=600) as exchange:
        record = await exchange.call_in(from_=CALLER, to=BANK, script=[])
    said = [e for e in record.events if isinstance(e, Said)][0]
    assert (said.voice, said.language) == ("Polly.Hiujin-Neural", "yue-CN")
    played = [e for e in record.events if isinstance(e, Played)][0]
    assert played.url == "https://hotline.example.com/audio/bye.mp3"
    assert record.duration >= 60 and record.outcome == "app-hangup"


@pytest.mark.anyio
async def test_a_runaway_redirect_loop_is_stopped() -> None:
    app = TwimlApp({"/voice": lambda p: twiml("<Redirect>/voice</Redirect>")})
    async with emulate(app) as exchange:
        exchange.max_requests_per_call = 20
        record = await exchange.call_in(from_=CALLER, to=BANK, script=[])
    assert record.outcome == "max-duration" and len(record.requests) == 20
