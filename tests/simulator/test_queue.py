from __future__ import annotations

import pytest

from simulator.callers import Directory, VirtualCustomer, hangup_after, press
from tests.simulator.apps import BANK, CALLER, TwimlApp, emulate, twiml

ENQUEUE = twiml('<Enqueue action="/after-queue" waitUrl="/hold">cards</Enqueue><Say>next</Say>')


@pytest.mark.anyio
async def test_leave_in_the_wait_document_requests_the_action_with_leave() -> None:
    app = TwimlApp(
        {
            "/voice": lambda p: ENQUEUE,
            "/hold": lambda p: twiml(
                '<Say>please hold</Say><Gather numDigits="1" action="/hold-choice"/>'
            ),
            "/hold-choice": lambda p: twiml("<Leave/>"),
            "/after-queue": lambda p: twiml("<Say>leave a message</Say><Hangup/>"),
        }
    )
    async with emulate(app) as exchange:
        record = await exchange.call_in(from_=CALLER, to=BANK, script=[press("1")])
    hold = app.to("/hold")[0]
    assert hold["QueuePosition"] == "1" and hold["CurrentQueueSize"] == "1"
    assert hold["QueueSid"].startswith("QU") and hold["MaxQueueSize"] == "1000"
    assert {"QueueTime", "AvgQueueTime"} <= hold.keys()
    assert app.to("/hold-choice")[0]["QueueSid"] == hold["QueueSid"]
    after = app.to("/after-queue")[0]
    assert after["QueueResult"] == "leave" and after["QueueSid"] == hold["QueueSid"]
    assert record.said == ["please hold", "leave a message"]


@pytest.mark.anyio
async def test_the_wait_url_is_requested_again_when_its_document_runs_out() -> None:
    app = TwimlApp(
        {
            "/voice": lambda p: ENQUEUE,
            "/hold": lambda p: twiml('<Pause length="10"/>'),
            "/after-queue": lambda p: twiml(""),
        }
    )
    async with emulate(app, speed=500) as exchange:
        record = await exchange.call_in(from_=CALLER, to=BANK, script=[hangup_after(35)])
    holds = app.to("/hold")
    assert len(holds) >= 2
    assert int(holds[-1]["QueueTime"]) >= 10
    after = app.to("/after-queue")[0]
    assert after["QueueResult"] == "hangup" and after["CallStatus"] == "completed"
    assert record.outcome == "caller-hangup"
    assert exchange.queue_named("cards").members == []


@pytest.mark.anyio
async def test_a_verb_not_allowed_in_wait_documents_is_reported_and_skipped() -> None:
    app = TwimlApp(
        {
            "/voice": lambda p: ENQUEUE,
            "/hold": lambda p: twiml('<Dial>+8613900000000</Dial><Pause length="5"/>'),
        }
    )
    async with emulate(app) as exchange:
        record = await exchange.call_in(from_=CALLER, to=BANK, script=[hangup_after(12)])
    assert {e.code for e in record.errors} == {12100}
    assert not any(e.fatal for e in record.errors)
    assert record.notes("dialing") == []


@pytest.mark.anyio
async def test_an_agent_dialing_the_queue_bridges_and_the_action_fires_when_it_ends() -> None:
    app = TwimlApp(
        {
            "/voice": lambda p: ENQUEUE,
            "/hold": lambda p: twiml('<Play loop="0">https://cdn.example.com/hold.mp3</Play>'),
            "/agent": lambda p: twiml(
                '<Dial action="/agent-done"><Queue url="/whisper">cards</Queue></Dial>'
            ),
            "/whisper": lambda p: twiml("<Say>connecting you</Say>"),
            "/agent-done": lambda p: twiml("<Hangup/>"),
            "/after-queue": lambda p: twiml(
                '<Gather numDigits="1" action="/survey"><Say>rate us</Say></Gather>'
            ),
            "/survey": lambda p: twiml("<Hangup/>"),
        }
    )
    agent = VirtualCustomer(ring_seconds=1, talk_seconds=40)
    async with emulate(app, answerer=Directory(prefixes={"client:": agent})) as exchange:
        caller = exchange.start_call_in(from_=CALLER, to=BANK, script=[press("5")])
        while not exchange.queue_named("cards").members:
            await exchange.clock.sleep(1)
        leg = exchange.start_outbound(to="client:alice", from_=BANK, url="/agent")
        record = await exchange.wait_for(caller.sid)
        agent_record = await exchange.wait_for(leg.sid)
    after = app.to("/after-queue")[0]
    assert after["QueueResult"] == "bridged"
    assert app.to("/survey")[0]["Digits"] == "5"
    assert record.said == ["connecting you", "rate us"]
    done = app.to("/agent-done")[0]
    assert done["DialCallStatus"] == "completed" and done["DialCallSid"] == caller.sid
    assert int(done["DialCallDuration"]) >= 35
    assert agent_record.outcome == "caller-hangup"


@pytest.mark.anyio
async def test_a_full_queue_sends_queue_full_to_the_action() -> None:
    app = TwimlApp(
        {"/voice": lambda p: ENQUEUE, "/after-queue": lambda p: twiml("<Say>busy</Say>")}
    )
    async with emulate(app) as exchange:
        exchange.create_queue("cards", max_size=0)
        record = await exchange.call_in(from_=CALLER, to=BANK, script=[])
    assert app.to("/after-queue")[0]["QueueResult"] == "queue-full"
    assert record.said == ["busy"]
