from __future__ import annotations

from email.utils import parsedate_to_datetime

import pytest

from simulator.callbacks import ALL_EVENTS, CallbackChaos
from simulator.callers import Directory, VirtualCustomer, hangup_after
from simulator.exchange import PhoneNumber
from tests.simulator.apps import BANK, CALLER, TwimlApp, emulate, twiml

NUMBER = PhoneNumber(
    BANK, "/voice", status_callback="/twilio/voice/status", status_callback_events=ALL_EVENTS
)


def app() -> TwimlApp:
    return TwimlApp({"/voice": lambda p: twiml('<Pause length="30"/>')})


@pytest.mark.anyio
async def test_progress_events_are_numbered_in_order() -> None:
    web = app()
    async with emulate(web, numbers=[NUMBER]) as exchange:
        record = await exchange.call_in(from_=CALLER, to=BANK, script=[hangup_after(10)])
    sent = web.to("/twilio/voice/status")
    assert [p["SequenceNumber"] for p in sent] == ["0", "1", "2", "3"]
    assert [p["CallStatus"] for p in sent] == ["ringing", "ringing", "in-progress", "completed"]
    assert all(p["CallbackSource"] == "call-progress-events" for p in sent)
    assert all(parsedate_to_datetime(p["Timestamp"]).tzinfo for p in sent)
    assert sent[-1]["CallDuration"] == str(record.duration) and record.duration >= 9
    assert all(p["CallSid"] == record.call_sid for p in sent)


@pytest.mark.anyio
async def test_a_numbers_status_callback_hears_only_the_end_as_on_twilio() -> None:
    web = app()
    number = PhoneNumber(BANK, "/voice", status_callback="/status")
    async with emulate(web, numbers=[number]) as exchange:
        await exchange.call_in(from_=CALLER, to=BANK, script=[hangup_after(1)])
    sent = web.to("/status")
    assert [(p["SequenceNumber"], p["CallStatus"]) for p in sent] == [("0", "completed")]


@pytest.mark.anyio
async def test_duplicates_repeat_each_callback_with_the_same_idempotency_token() -> None:
    web = app()
    async with emulate(web, numbers=[NUMBER], chaos=CallbackChaos(duplicate=True)) as exchange:
        await exchange.call_in(from_=CALLER, to=BANK, script=[hangup_after(1)])
    received = [r for r in web.received if r.path == "/twilio/voice/status"]
    assert [r.params["SequenceNumber"] for r in received] == list("00112233")
    tokens = [r.headers["i-twilio-idempotency-token"] for r in received]
    assert tokens[0] == tokens[1] and tokens[1] != tokens[2]


@pytest.mark.anyio
async def test_shuffle_delivers_every_event_in_another_order() -> None:
    web = app()
    chaos = CallbackChaos(shuffle=True, seed=3)
    async with emulate(web, numbers=[NUMBER], chaos=chaos) as exchange:
        await exchange.call_in(from_=CALLER, to=BANK, script=[hangup_after(1)])
    order = [p["SequenceNumber"] for p in web.to("/twilio/voice/status")]
    assert sorted(order) == ["0", "1", "2", "3"] and order != sorted(order)


@pytest.mark.anyio
async def test_a_rejected_call_completes_as_busy_without_being_answered() -> None:
    web = TwimlApp({"/voice": lambda p: twiml('<Reject reason="busy"/>')})
    async with emulate(web, numbers=[NUMBER]) as exchange:
        record = await exchange.call_in(from_=CALLER, to=BANK, script=[])
    statuses = [p["CallStatus"] for p in web.to("/twilio/voice/status")]
    assert statuses == ["ringing", "ringing", "busy"]
    assert record.outcome == "rejected" and record.status == "busy"


@pytest.mark.anyio
async def test_an_unanswered_outbound_call_completes_as_no_answer() -> None:
    web = app()
    nobody = Directory(default=VirtualCustomer(outcome="no-answer"))
    async with emulate(web, answerer=nobody) as exchange:
        call = exchange.start_outbound(
            to=CALLER,
            from_=BANK,
            url="/voice",
            status_callback="/callback-status",
            status_callback_events=ALL_EVENTS,
            timeout=20,
        )
        record = await exchange.wait_for(call.sid)
    sent = web.to("/callback-status")
    assert [p["CallStatus"] for p in sent] == ["queued", "ringing", "no-answer"]
    assert sent[-1]["Direction"] == "outbound-api" and sent[-1]["CallDuration"] == "0"
    assert web.to("/voice") == [] and record.outcome == "no-answer"
