"""Redis goes away mid-call: the voice routes still answer TwiML, nothing about the call is lost,
and what Twilio said while Redis was away is applied when it is back."""

from __future__ import annotations

from sqlalchemy import Engine, func
from sqlmodel import Session, select

from crm.models import CallDisposition, CallLog, Ticket
from hotline.clock import FrozenClock
from ivr.models import ParkedCallEvent
from routing import jobs
from tests.conftest import Twilio, call_params
from tests.faults.proxy import FaultProxy
from tests.ivr.caller import Caller
from tests.routing.test_call_flow import dial_result, dial_target, ready
from tests.twiml import Answer

STRANGER = "+8613612345678"


def count(engine: Engine, model: type) -> int:
    with Session(engine) as session:
        return int(session.exec(select(func.count()).select_from(model)).one())


def call_log(engine: Engine, call_sid: str) -> CallLog:
    with Session(engine) as session:
        return session.exec(select(CallLog).where(CallLog.call_sid == call_sid)).one()


def test_a_call_that_ends_while_redis_is_away_is_logged_when_it_returns(
    twilio: Twilio, clock: FrozenClock, engine: Engine, redis_proxy: FaultProxy
) -> None:
    caller = Caller(twilio, clock, STRANGER)
    caller.dial()
    assert caller.press("1").enqueued() == "cards"
    redis_proxy.cut()
    clock.advance(40)
    end = call_params(caller.sid, STRANGER, CallStatus="completed", SequenceNumber="2")
    for _ in range(2):  # Twilio's repeat too
        answered = twilio.post("/twilio/voice/status", {**end, "CallDuration": "45"})
        assert answered.status_code == 200 and answered.text.startswith("<?xml")
    assert count(engine, ParkedCallEvent) == 1 and count(engine, CallLog) == 0
    redis_proxy.restore()
    twilio.run_jobs()
    log = call_log(engine, caller.sid)
    assert log.disposition == CallDisposition.abandoned and log.category == "cards.lost_stolen"
    assert count(engine, ParkedCallEvent) == 0
    assert jobs.router().call_state(caller.sid)["state"] == "gone"


def test_an_agent_whose_call_ended_while_redis_was_away_is_released(
    twilio: Twilio, clock: FrozenClock, engine: Engine, redis_proxy: FaultProxy
) -> None:
    router = jobs.router()
    ready(router, clock, 7)
    caller = Caller(twilio, clock, STRANGER)
    caller.dial()
    _, action = dial_target(caller.press("1"))
    leg = call_params(
        "CA" + "9" * 32, "client:agent_7", CallStatus="in-progress", ParentCallSid=caller.sid
    )
    assert twilio.post("/twilio/voice/agent-leg?agent=7", leg).status_code == 200
    assert router.agent_state(7)["state"] == "busy"
    redis_proxy.cut()
    clock.advance(90)
    # The conversation is over: the caller hears goodbye, not a queue again.
    bye = dial_result(twilio, caller, action, "completed", duration=90)
    assert "Enqueue" not in bye.verbs() and bye.verbs()[-1] == "Hangup"
    caller.status("completed", duration=95)
    redis_proxy.restore()
    twilio.run_jobs()
    assert router.agent_state(7)["state"] == "wrap_up"
    log = call_log(engine, caller.sid)
    assert log.disposition == CallDisposition.answered and log.agent_id == 7


def test_a_whole_call_while_redis_is_away_still_lands_on_a_ticket(
    twilio: Twilio, clock: FrozenClock, engine: Engine, redis_proxy: FaultProxy
) -> None:
    redis_proxy.cut()
    caller = Caller(twilio, clock, STRANGER)
    first = caller.dial()
    assert first.enqueued() == "general"  # the safe path: a Twilio queue, agents pick it up
    wait = call_params(caller.sid, STRANGER, QueueSid="QU" + "1" * 32, QueuePosition="2")
    answer = Answer.of(twilio.post("/twilio/voice/wait?queue=general", wait))
    assert answer.verbs()  # hold music and a position, still TwiML
    clock.advance(30)
    caller.status("completed", duration=30)
    redis_proxy.restore()
    twilio.run_jobs()
    log = call_log(engine, caller.sid)
    assert log.from_number == STRANGER
    with Session(engine) as session:
        assert session.get(Ticket, log.ticket_id) is not None
