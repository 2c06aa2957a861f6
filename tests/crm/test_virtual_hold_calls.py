"""The call back of a virtual hold on the emulated Twilio: placed over its REST API, answered
by the customer's phone, put through to the agent kept for them, logged on the hold's ticket."""

from __future__ import annotations

from datetime import timedelta

import redis
from sqlalchemy import Engine
from sqlmodel import Session, select

from crm import service as crm
from crm.models import Callback, CallLog, CallRecord
from hotline.business_hours import parse_calendar
from hotline.clock import FrozenClock
from hotline.settings import Settings
from ivr.jobs import log_ended_calls
from routing import jobs
from routing.router_types import AgentProfile
from tests.crm.callback_world import CUSTOMER_PHONE, callback_world

ORIGIN = "CA" + "5" * 32


def held_caller(settings: Settings, clock: FrozenClock, engine: Engine) -> int:
    """A caller who waited 70 s in the accounts queue, then chose to be called back."""
    router = jobs.router()
    arrived = clock.now() - timedelta(seconds=70)
    router.arrive(call_sid=ORIGIN, queue="accounts", language="zh", priority=3,
                  enqueued_at=arrived, now=clock.now())  # fmt: skip
    assert router.hold(call_sid=ORIGIN, phone=CUSTOMER_PHONE, now=clock.now()).state == "held"
    record = CallRecord(
        call_sid=ORIGIN, from_number=CUSTOMER_PHONE, to_number=None, customer_id=None,
        language="zh", ivr_path=[], route="accounts", skill="accounts", priority=3,
        category="accounts", subject="账户", started_at=arrived, ended_at=clock.now(),
        virtual_hold=ORIGIN,
    )  # fmt: skip
    calendar = parse_calendar(settings.business_hours, timezone=settings.timezone)
    with Session(engine) as session:
        callback = crm.record_hold(
            session=session, record=record, calendar=calendar, now=clock.now(), window_days=7
        )
        session.commit()
        assert callback is not None and callback.id is not None
        return callback.ticket_id


def test_the_call_back_puts_the_customer_through_to_the_kept_agent(
    settings: Settings, clock: FrozenClock, engine: Engine, redis_client: redis.Redis
) -> None:
    with callback_world(settings, clock, redis_client) as world:
        ticket_id = held_caller(settings, clock, engine)
        router = jobs.router()
        profile = AgentProfile(agent_id=7, skills={"accounts": 5}, languages=["zh"],
                               contact="client:agent_7")  # fmt: skip
        outcome = router.agent_ready(agent=profile, now=clock.now())
        assert outcome.offered_call == ORIGIN
        jobs.schedule_push(redis_client, ORIGIN, 7)
        world.work()
        (call,) = world.calls_to_customer()
        assert call.errors == [], call.errors
        assert any("按照您的要求为您回电" in text for text in call.said)
        assert router.agent_state(7)["state"] == "wrap_up"
        world.work()  # a repeated push places nothing more
        assert len(world.calls_to_customer()) == 1
        log_ended_calls()
        jobs.record_agent_states()
    with Session(engine) as session:
        log = session.exec(select(CallLog).where(CallLog.call_sid == call.call_sid)).one()
        callback = session.exec(select(Callback).where(Callback.origin_call_sid == ORIGIN)).one()
    assert (log.ticket_id, log.agent_id, log.direction) == (ticket_id, 7, "outbound")
    assert (callback.status, callback.outcome, callback.attempts) == ("completed", "agent", 1)


def test_a_customer_who_does_not_answer_frees_the_agent_and_keeps_their_place(
    settings: Settings, clock: FrozenClock, engine: Engine, redis_client: redis.Redis
) -> None:
    with callback_world(settings, clock, redis_client) as world:
        held_caller(settings, clock, engine)
        router = jobs.router()
        score = router.call_state(ORIGIN)["score"]
        profile = AgentProfile(agent_id=7, skills={"accounts": 5}, languages=["zh"],
                               contact="client:agent_7")  # fmt: skip
        router.agent_ready(agent=profile, now=clock.now())
        jobs.schedule_push(redis_client, ORIGIN, 7)
        world.customer.outcome = "no-answer"
        world.work()
        (call,) = world.calls_to_customer()
        assert call.status == "no-answer"
        assert router.agent_state(7)["state"] == "available"
        state = router.call_state(ORIGIN)
        assert (state["state"], state["score"], state["vh_tries"]) == ("retry", score, "1")
