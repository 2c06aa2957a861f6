from __future__ import annotations

import pytest

from simulator.callers import Directory, VirtualAgent, VirtualCustomer, hangup_after
from tests.simulator.apps import BANK, CALLER, TwimlApp, emulate, twiml


def dial_app(dial: str) -> TwimlApp:
    return TwimlApp(
        {
            "/voice": lambda p: twiml(dial + "<Say>after dial</Say>"),
            "/dialed": lambda p: twiml("<Say>dial action</Say><Hangup/>"),
        }
    )


@pytest.mark.anyio
async def test_no_answer_after_the_timeout() -> None:
    app = dial_app('<Dial action="/dialed" timeout="20"><Client>bob</Client></Dial>')
    nobody = VirtualCustomer(outcome="no-answer")
    async with emulate(app, answerer=Directory(default=nobody)) as exchange:
        record = await exchange.call_in(from_=CALLER, to=BANK, script=[])
    params = app.to("/dialed")[0]
    assert params["DialCallStatus"] == "no-answer" and params["DialCallDuration"] == "0"
    assert params["DialCallSid"].startswith("CA")
    assert record.requests_to("/dialed")[0].at - record.notes("dialing")[0].at >= 20
    assert record.said == ["dial action"]


@pytest.mark.anyio
async def test_a_slow_answer_beyond_the_timeout_is_no_answer() -> None:
    app = dial_app('<Dial action="/dialed" timeout="5"><Number>+8613900000000</Number></Dial>')
    slow = VirtualCustomer(ring_seconds=12)
    async with emulate(app, answerer=Directory(default=slow)) as exchange:
        await exchange.call_in(from_=CALLER, to=BANK, script=[])
    assert app.to("/dialed")[0]["DialCallStatus"] == "no-answer"


@pytest.mark.anyio
async def test_an_answered_dial_reports_the_talk_time_and_the_recording() -> None:
    app = dial_app(
        '<Dial action="/dialed" record="record-from-answer-dual" callerId="+861095555"'
        ' recordingStatusCallback="/recording"><Client>alice</Client></Dial>'
    )
    agent = VirtualCustomer(ring_seconds=2, talk_seconds=30)
    async with emulate(app, answerer=Directory(exact={"client:alice": agent})) as exchange:
        record = await exchange.call_in(from_=CALLER, to=BANK, script=[])
    params = app.to("/dialed")[0]
    assert params["DialCallStatus"] == "completed"
    assert int(params["DialCallDuration"]) >= 28
    assert params["RecordingUrl"].endswith(params["RecordingSid"])
    callback = app.to("/recording")[0]
    assert callback["RecordingSource"] == "DialVerb" and callback["RecordingChannels"] == "2"
    assert callback["RecordingStatus"] == "completed" and callback["CallSid"] == record.call_sid


@pytest.mark.anyio
async def test_busy() -> None:
    app = dial_app('<Dial action="/dialed"><Number>+8613900000000</Number></Dial>')
    async with emulate(app, answerer=Directory(default=VirtualCustomer(outcome="busy"))) as ex:
        await ex.call_in(from_=CALLER, to=BANK, script=[])
    assert app.to("/dialed")[0]["DialCallStatus"] == "busy"


@pytest.mark.anyio
async def test_without_an_action_the_next_verb_runs() -> None:
    app = dial_app('<Dial timeout="3"><Client>bob</Client></Dial>')
    agent = VirtualAgent(no_answer_probability=1.0)
    async with emulate(app, answerer=Directory(default=agent)) as exchange:
        record = await exchange.call_in(from_=CALLER, to=BANK, script=[])
    assert record.said == ["after dial"]


@pytest.mark.anyio
async def test_a_caller_hanging_up_mid_talk_still_gets_the_action_requested() -> None:
    app = dial_app('<Dial action="/dialed"><Client>alice</Client></Dial>')
    agent = VirtualCustomer(ring_seconds=1, talk_seconds=300)
    async with emulate(app, answerer=Directory(default=agent)) as exchange:
        record = await exchange.call_in(from_=CALLER, to=BANK, script=[hangup_after(20)])
    params = app.to("/dialed")[0]
    assert params["DialCallStatus"] == "completed" and params["CallStatus"] == "completed"
    assert record.outcome == "caller-hangup" and "dial action" not in record.said


@pytest.mark.anyio
async def test_a_conference_ends_for_everyone_when_the_moderator_leaves() -> None:
    app = TwimlApp(
        {
            "/voice": lambda p: twiml(
                '<Dial action="/dialed"><Conference endConferenceOnExit="true">room</Conference>'
                "</Dial>"
                if p["From"] == CALLER
                else '<Dial action="/dialed"><Conference>room</Conference></Dial>'
            ),
            "/dialed": lambda p: twiml("<Say>conference over</Say>"),
        }
    )
    async with emulate(app, speed=500) as exchange:
        guest = exchange.start_call_in(from_="+8613900000001", to=BANK, script=[hangup_after(300)])
        host = await exchange.call_in(from_=CALLER, to=BANK, script=[hangup_after(20)])
        guest_record = await exchange.wait_for(guest.sid)
    assert host.outcome == "caller-hangup"
    assert guest_record.said == ["conference over"]
    conference_sids = {p["ConferenceSid"] for p in app.to("/dialed")}
    assert len(conference_sids) == 1 and conference_sids.pop().startswith("CF")
