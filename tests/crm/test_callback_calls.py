"""Callbacks placed on the emulated Twilio: each answer, each way a call can fail, retries."""

from __future__ import annotations

from datetime import timedelta

import redis
from sqlalchemy import Engine
from sqlmodel import Session, select

from crm import service as crm
from crm.callbacks import CallbackPolicy
from crm.models import CallLog
from hotline.business_hours import parse_calendar
from hotline.clock import FrozenClock
from hotline.settings import Settings
from routing import jobs
from routing.router_types import AgentProfile
from simulator.callers import press
from tests.crm.callback_world import (
    add_ticket,
    callback_of,
    callback_world,
    results,
    timeline_kinds,
)

NOW_POLICY = CallbackPolicy(delay_seconds=0, retry_seconds=600, max_attempts=3)


def schedule(engine: Engine, clock: FrozenClock, settings: Settings, ticket_id: int) -> int:
    calendar = parse_calendar(
        settings.business_hours, timezone=settings.timezone, holidays=settings.holidays
    )
    with Session(engine) as session:
        callback = crm.schedule_followup(
            session=session, ticket_id=ticket_id, now=clock.now(), policy=NOW_POLICY,
            calendar=calendar,
        )  # fmt: skip
        session.commit()
        assert callback is not None and callback.id is not None
        return callback.id


def test_the_customer_confirms_the_case_is_resolved(
    settings: Settings, clock: FrozenClock, engine: Engine, redis_client: redis.Redis
) -> None:
    ticket_id = add_ticket(engine, clock)
    callback_id = schedule(engine, clock, settings, ticket_id)
    with callback_world(settings, clock, redis_client) as world:
        world.customer.steps = [press("1")]
        world.work()
        (call,) = world.calls_to_customer()
    assert call.errors == []
    assert any("2 0 2 6 1 1 2 4 0 0 0 1" in text for text in call.said)
    assert any("感谢您的确认" in text for text in call.said)
    callback = callback_of(engine, callback_id)
    assert (callback.status, callback.outcome, callback.attempts) == ("completed", "resolved", 1)
    assert timeline_kinds(engine, ticket_id)[-2:] == ["callback_placed", "callback_result"]


def test_an_agent_is_asked_for_and_the_tickets_agent_takes_the_call(
    settings: Settings, clock: FrozenClock, engine: Engine, redis_client: redis.Redis
) -> None:
    ticket_id = add_ticket(engine, clock)
    callback_id = schedule(engine, clock, settings, ticket_id)
    with callback_world(settings, clock, redis_client) as world:
        router = jobs.router()
        for agent_id in (7, 8):
            router.agent_ready(
                agent=AgentProfile(agent_id=agent_id, skills={"cards": 8}, languages=["zh"],
                                   contact=f"client:agent_{agent_id}"),
                now=clock.now() - timedelta(seconds=agent_id * 10),
            )  # fmt: skip
        with Session(engine) as session:  # agent 7 handled the case before: sticky
            session.add(CallLog(call_sid="CA" + "7" * 32, ticket_id=ticket_id, agent_id=7,
                                started_at=clock.now(), disposition="answered"))  # fmt: skip
            session.commit()
        world.customer.steps = [press("2")]
        world.work()
        (call,) = world.calls_to_customer()
        assert call.errors == []
        assert any("正在为您转接" in text for text in call.said)
        assert router.agent_state(7)["state"] == "wrap_up"
        assert router.agent_state(8)["state"] == "available"
    callback = callback_of(engine, callback_id)
    assert (callback.status, callback.outcome) == ("completed", "agent")
    with Session(engine) as session:
        log = session.exec(select(CallLog).where(CallLog.call_sid == call.call_sid)).one()
        assert (log.ticket_id, log.agent_id, log.direction) == (ticket_id, 7, "outbound")


def test_call_me_later_reschedules_and_counts_as_an_attempt(
    settings: Settings, clock: FrozenClock, engine: Engine, redis_client: redis.Redis
) -> None:
    ticket_id = add_ticket(engine, clock)
    callback_id = schedule(engine, clock, settings, ticket_id)
    with callback_world(settings, clock, redis_client) as world:
        world.customer.steps = [press("3")]
        world.work()
        world.calls_to_customer()
        callback = callback_of(engine, callback_id)
        assert (callback.status, callback.attempts, callback.last_result) == (
            "scheduled", 1, "later",
        )  # fmt: skip
        assert callback.due_at == clock.now() + timedelta(seconds=600)
        world.customer.steps = [press("1")]
        world.work()  # not due yet: nobody is called
        assert len(world.calls_to_customer()) == 1
        clock.advance(600)
        world.work()
        assert len(world.calls_to_customer()) == 2
    callback = callback_of(engine, callback_id)
    assert (callback.status, callback.outcome, callback.attempts) == ("completed", "resolved", 2)


def test_no_answer_is_retried_with_back_off_then_recorded_as_exhausted(
    settings: Settings, clock: FrozenClock, engine: Engine, redis_client: redis.Redis
) -> None:
    ticket_id = add_ticket(engine, clock)
    callback_id = schedule(engine, clock, settings, ticket_id)
    start = clock.now()
    with callback_world(settings, clock, redis_client) as world:
        world.customer.outcome = "no-answer"
        for wait in (0, 600, 1200):  # the retry wait doubles: 10 min, then 20
            clock.advance(wait)
            world.work()
            world.calls_to_customer()
        clock.advance(2400)
        world.work()
        calls = world.calls_to_customer()
    assert [call.status for call in calls] == ["no-answer"] * 3
    callback = callback_of(engine, callback_id)
    assert (callback.status, callback.attempts, callback.outcome) == ("exhausted", 3, "no-answer")
    assert callback.finished_at == start + timedelta(seconds=1800)
    assert [r["status"] for r in results(engine, ticket_id)] == [
        "scheduled",
        "scheduled",
        "exhausted",
    ]


def test_a_busy_line_is_retried(
    settings: Settings, clock: FrozenClock, engine: Engine, redis_client: redis.Redis
) -> None:
    ticket_id = add_ticket(engine, clock)
    callback_id = schedule(engine, clock, settings, ticket_id)
    with callback_world(settings, clock, redis_client) as world:
        world.customer.outcome = "busy"
        world.work()
        (call,) = world.calls_to_customer()
    assert call.status == "busy"
    callback = callback_of(engine, callback_id)
    assert (callback.status, callback.last_result) == ("scheduled", "busy")


def test_an_answering_machine_hears_only_the_case_number_and_is_tried_again(
    settings: Settings, clock: FrozenClock, engine: Engine, redis_client: redis.Redis
) -> None:
    ticket_id = add_ticket(engine, clock, language="en")
    callback_id = schedule(engine, clock, settings, ticket_id)
    with callback_world(settings, clock, redis_client) as world:
        world.customer.answered_by = "machine_start"
        world.work()
        (call,) = world.calls_to_customer()
    assert call.errors == []
    assert call.said[0].startswith("Hello, this is the bank's customer service about case")
    assert len(call.said) == 2 and not any("press" in text for text in call.said)
    assert not any("王芳" in text or "139" in text for text in call.said)
    callback = callback_of(engine, callback_id)
    assert (callback.status, callback.last_result, callback.answered_at) == (
        "scheduled", "machine", None,
    )  # fmt: skip
