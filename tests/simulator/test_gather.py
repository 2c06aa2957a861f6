from __future__ import annotations

import pytest

from simulator.callers import Script, press, say, silence
from tests.simulator.apps import BANK, CALLER, TwimlApp, emulate, twiml

MENU = twiml(
    '<Gather input="dtmf speech" action="/choice" numDigits="1" timeout="4" language="cmn-Hans-CN"'
    ' hints="信用卡,挂失"><Say voice="Polly.Zhiyu-Neural" language="cmn-CN">请按键</Say></Gather>'
    '<Redirect method="POST">/fallback</Redirect>'
)


def menu_app() -> TwimlApp:
    return TwimlApp(
        {
            "/voice": lambda p: MENU,
            "/choice": lambda p: twiml("<Hangup/>"),
            "/fallback": lambda p: twiml("<Say>nothing heard</Say><Hangup/>"),
        }
    )


@pytest.mark.anyio
async def test_digits_are_posted_to_the_action() -> None:
    app = menu_app()
    async with emulate(app) as exchange:
        record = await exchange.call_in(from_=CALLER, to=BANK, script=[press("2")])
    assert app.to("/choice")[0]["Digits"] == "2"
    assert "SpeechResult" not in app.to("/choice")[0]
    assert record.said == ["请按键"]
    assert record.outcome == "app-hangup"


@pytest.mark.anyio
async def test_num_digits_cuts_the_input() -> None:
    app = menu_app()
    async with emulate(app) as exchange:
        await exchange.call_in(from_=CALLER, to=BANK, script=[press("21")])
    assert app.to("/choice")[0]["Digits"] == "2"


@pytest.mark.anyio
async def test_speech_comes_with_a_confidence() -> None:
    app = menu_app()
    async with emulate(app) as exchange:
        await exchange.call_in(from_=CALLER, to=BANK, script=[say("信用卡", confidence=0.8)])
    params = app.to("/choice")[0]
    assert params["SpeechResult"] == "信用卡"
    assert float(params["Confidence"]) == pytest.approx(0.8)
    assert "Digits" not in params


@pytest.mark.anyio
async def test_silence_falls_through_to_the_next_verb() -> None:
    app = menu_app()
    async with emulate(app) as exchange:
        record = await exchange.call_in(from_=CALLER, to=BANK, script=[silence()])
    assert app.to("/choice") == []
    assert record.said == ["请按键", "nothing heard"]


@pytest.mark.anyio
async def test_action_on_empty_result_posts_without_digits() -> None:
    app = TwimlApp(
        {
            "/voice": lambda p: twiml('<Gather action="/choice" actionOnEmptyResult="true"/>'),
            "/choice": lambda p: twiml("<Hangup/>"),
        }
    )
    async with emulate(app) as exchange:
        await exchange.call_in(from_=CALLER, to=BANK, script=[silence()])
    params = app.to("/choice")[0]
    assert "Digits" not in params and "SpeechResult" not in params


@pytest.mark.anyio
async def test_the_finish_key_ends_input_and_is_not_in_digits() -> None:
    app = TwimlApp(
        {
            "/voice": lambda p: twiml('<Gather action="/case" timeout="10"/>'),
            "/case": lambda p: twiml("<Hangup/>"),
        }
    )
    async with emulate(app) as exchange:
        await exchange.call_in(from_=CALLER, to=BANK, script=[press("202611240001#")])
    assert app.to("/case")[0]["Digits"] == "202611240001"
    assert app.to("/case")[0]["FinishedOnKey"] == "#"


@pytest.mark.anyio
async def test_without_action_the_gather_posts_to_its_own_document() -> None:
    app = TwimlApp(
        {
            "/ivr/start": lambda p: twiml("<Gather/>") if "Digits" not in p else twiml("<Hangup/>"),
            "/voice": lambda p: twiml("<Redirect>ivr/start</Redirect>"),
        }
    )
    async with emulate(app) as exchange:
        await exchange.call_in(from_=CALLER, to=BANK, script=[press("7")])
    assert [p.get("Digits") for p in app.to("/ivr/start")] == [None, "7"]


@pytest.mark.anyio
async def test_dtmf_only_gather_ignores_speech() -> None:
    app = menu_app()
    app.routes = dict(app.routes) | {"/voice": lambda p: twiml('<Gather action="/choice"/>')}
    async with emulate(app) as exchange:
        await exchange.call_in(from_=CALLER, to=BANK, script=[say("挂失")])
    assert app.to("/choice") == []


@pytest.mark.anyio
async def test_a_caller_whose_script_ran_out_hangs_up() -> None:
    app = TwimlApp({"/voice": lambda p: twiml("<Gather/><Redirect>/voice</Redirect>")})
    async with emulate(app) as exchange:
        record = await exchange.call_in(from_=CALLER, to=BANK, script=Script([silence()]))
    assert record.outcome == "caller-hangup"
    assert len(app.to("/voice")) == 2


@pytest.mark.anyio
async def test_redirect_uses_its_method() -> None:
    app = TwimlApp(
        {
            "/voice": lambda p: twiml('<Redirect method="GET">/next?step=2</Redirect>'),
            "/next": lambda p: twiml("<Say>two</Say>"),
        }
    )
    async with emulate(app) as exchange:
        record = await exchange.call_in(from_=CALLER, to=BANK, script=[])
    assert app.received[1].method == "GET" and app.received[1].params["step"] == "2"
    assert record.said == ["two"] and record.outcome == "app-hangup"
