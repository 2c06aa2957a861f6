"""Answering machine detection on `calls.create`: the app's URL is asked with AnsweredBy."""

from __future__ import annotations

import pytest

from simulator.callers import Directory, VirtualCustomer, press
from simulator.exchange import ExchangeError
from tests.simulator.apps import BANK, CALLER, TwimlApp, emulate, twiml

APP = TwimlApp(
    {
        "/answer": lambda p: twiml(
            '<Gather action="/key" numDigits="1"><Say>Press a key</Say></Gather>'
            if p.get("AnsweredBy") in ("human", "unknown", None)
            else "<Say>Message for the machine</Say><Hangup/>"
        ),
        "/key": lambda p: twiml("<Say>Thanks</Say><Hangup/>"),
    }
)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("detection", "picks_up", "reported"),
    [
        ("Enable", "human", "human"),
        ("Enable", "machine_start", "machine_start"),
        ("DetectMessageEnd", "machine_start", "machine_end_beep"),
        ("Enable", "fax", "fax"),
    ],
)
async def test_the_answer_request_says_who_picked_up(
    detection: str, picks_up: str, reported: str
) -> None:
    APP.received.clear()
    customer = VirtualCustomer([press("1")], ring_seconds=1, answered_by=picks_up)  # type: ignore[arg-type]
    async with emulate(APP, answerer=Directory(default=customer)) as exchange:
        call = exchange.start_outbound(
            to=CALLER, from_=BANK, url="/answer", machine_detection=detection
        )
        record = await exchange.wait_for(call.sid)
    assert APP.to("/answer")[0]["AnsweredBy"] == reported
    assert call.answered_by == reported
    if picks_up == "human":
        assert record.said == ["Press a key", "Thanks"]
    else:  # a machine listens and never keys anything
        assert record.said == ["Message for the machine"] and APP.to("/key") == []


@pytest.mark.anyio
async def test_without_detection_there_is_no_answered_by() -> None:
    APP.received.clear()
    async with emulate(APP, answerer=Directory(default=VirtualCustomer([press("1")]))) as exchange:
        call = exchange.start_outbound(to=CALLER, from_=BANK, url="/answer")
        await exchange.wait_for(call.sid)
    assert "AnsweredBy" not in APP.to("/answer")[0]


@pytest.mark.anyio
async def test_an_unknown_detection_mode_is_refused_like_twilio() -> None:
    async with emulate(APP) as exchange:
        with pytest.raises(ExchangeError):
            exchange.start_outbound(to=CALLER, from_=BANK, url="/answer", machine_detection="On")
