"""Alerts raised and cleared by the heartbeat on real Redis and databases, from scenes driven
through the router."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from hotline.app import create_app
from hotline.clock import FrozenClock
from hotline.db import session_scope
from hotline.settings import Settings
from routing import alert_feed, alerts, jobs
from routing.alert_watch import HOLDING
from routing.models import Alert, AlertKind, AlertPublic
from tests.conftest import PUBLIC_URL
from tests.routing.floor_scenes import abandons, arrive, service_level_slips, talking_agent
from tests.routing.test_engine import agent


@pytest.fixture
def client(
    settings: Settings, clock: FrozenClock, redis_client: redis.Redis
) -> Iterator[TestClient]:
    with TestClient(create_app(settings, clock=clock), base_url=PUBLIC_URL) as test_client:
        yield test_client


def stored(engine: Engine) -> list[Alert]:
    with Session(engine) as session:
        return list(session.exec(select(Alert).order_by(col(Alert.id))).all())


def kinds(engine: Engine) -> list[tuple[str, str]]:
    return [(alert.kind, alert.queue) for alert in stored(engine)]


@pytest.mark.usefixtures("client")
def test_a_slipping_service_level_raises_an_alert_with_its_figures(
    clock: FrozenClock, engine: Engine
) -> None:
    service_level_slips(clock, abandoned=4)
    raised = jobs.watch_floor().raised
    assert [(a.kind, a.queue) for a in raised] == [(AlertKind.service_level, "cards")]
    alert = raised[0]
    assert alert.details == {
        "service_level": 0.2, "target": 0.8, "calls": 5, "offered": 5, "answered": 1,
        "answered_within_sl": 1, "abandoned_after_sl": 4, "window_minutes": 15,
        "service_level_seconds": 20,
    }  # fmt: skip
    assert alert.raised_at == clock.now() and alert.cleared_at is None
    assert alert.acknowledged_at is None and alert.acknowledged_by is None
    assert "20%" in alert.message_en and "80%" in alert.message_en
    assert alert.message_zh.startswith("银行卡")
    assert kinds(engine) == [("service_level", "cards")]


@pytest.mark.usefixtures("client")
def test_no_service_level_alert_below_the_minimum_of_calls(
    clock: FrozenClock, engine: Engine
) -> None:
    service_level_slips(clock, abandoned=3)  # SL 25 %, but over 4 calls only
    assert jobs.watch_floor().raised == []
    assert stored(engine) == []


@pytest.mark.usefixtures("client")
def test_a_queue_with_its_own_target_alerts_below_that_target_only(
    clock: FrozenClock, engine: Engine
) -> None:
    # Complaints aim for 70 % (routing/queues.yaml): 7 of 10 within 20 s is on target.
    talking_agent(clock, 1, complaints=8)
    for n in range(2, 8):
        talking_agent(clock, n, complaints=8)
    abandons(clock, 3, queue="complaints")
    assert jobs.watch_floor().raised == []
    abandons(clock, 1, queue="complaints")  # 7 of 11: 64 %
    raised = jobs.watch_floor().raised
    assert [(a.kind, a.details["target"]) for a in raised] == [("service_level", 0.7)]


@pytest.mark.usefixtures("client")
def test_a_caller_waiting_past_the_limit_raises_one_long_wait_alert(
    clock: FrozenClock, engine: Engine
) -> None:
    talking_agent(clock)  # signed in with the skill, so only the wait is wrong
    arrive(clock, "CA1")
    clock.advance(180)
    assert jobs.watch_floor().raised == []  # at the limit, not over it
    arrive(clock, "CA2")
    clock.advance(1)
    raised = jobs.watch_floor().raised
    assert [(a.kind, a.queue) for a in raised] == [(AlertKind.long_wait, "cards")]
    assert raised[0].details == {"longest_wait_seconds": 181.0, "limit_seconds": 180,
                                 "waiting": 2}  # fmt: skip
    for _ in range(5):  # the heartbeat runs on; the caller still waits
        clock.advance(1)
        assert jobs.watch_floor().raised == []
    assert kinds(engine) == [("long_wait", "cards")]


@pytest.mark.usefixtures("client")
def test_callers_with_nobody_signed_in_to_take_them_raise_no_agents(
    clock: FrozenClock, engine: Engine
) -> None:
    # An agent for cards is signed in (on a break counts); nobody for loans.
    jobs.router().agent_ready(agent=agent(1, cards=8), now=clock.now())
    jobs.router().agent_away(agent_id=1, state="break", reason="lunch", now=clock.now())
    arrive(clock, "CA1", "cards")
    arrive(clock, "CA2", "loans")
    raised = jobs.watch_floor().raised
    assert [(a.kind, a.queue, a.details["waiting"]) for a in raised] == [
        (AlertKind.no_agents, "loans", 1)
    ]


@pytest.mark.usefixtures("client")
def test_an_alert_is_cleared_when_its_condition_ends(clock: FrozenClock, engine: Engine) -> None:
    arrive(clock, "CA1", "loans")
    (raised,) = jobs.watch_floor().raised
    clock.advance(30)
    # An agent for loans signs in: the caller is offered to them, nobody waits any more.
    jobs.router().agent_ready(agent=agent(1, loans=5), now=clock.now())
    changes = jobs.watch_floor()
    assert changes.raised == []
    assert [(a.id, a.cleared_at) for a in changes.cleared] == [(raised.id, clock.now())]
    clock.advance(1)
    assert jobs.watch_floor().cleared == []  # once
    (alert,) = stored(engine)
    assert alert.cleared_at == changes.cleared[0].cleared_at
    assert alert.acknowledged_at is None  # still open: nobody has acknowledged it


@pytest.mark.usefixtures("client")
def test_the_service_level_alert_clears_when_the_window_moves_on(
    clock: FrozenClock, engine: Engine
) -> None:
    service_level_slips(clock, abandoned=4)  # 10:00:05 to 10:01:45
    jobs.watch_floor()
    clock.advance(13 * 60)  # 10:14:45: the window is the minutes 10:00 to 10:14
    assert jobs.watch_floor().cleared == []
    clock.advance(60)  # 10:15:45: the answer and the first abandon have left the window
    assert [a.kind for a in jobs.watch_floor().cleared] == [AlertKind.service_level]


@pytest.mark.usefixtures("client")
def test_a_condition_back_before_anyone_acknowledged_raises_the_same_alert_again(
    clock: FrozenClock, engine: Engine
) -> None:
    arrive(clock, "CA1", "loans")
    (first,) = jobs.watch_floor().raised
    jobs.router().call_gone(call_sid="CA1", now=clock.now())
    assert len(jobs.watch_floor().cleared) == 1
    clock.advance(20)
    arrive(clock, "CA2", "loans")
    arrive(clock, "CA3", "loans")
    (again,) = jobs.watch_floor().raised
    assert (again.id, again.raised_at, again.cleared_at) == (first.id, first.raised_at, None)
    assert again.details["waiting"] == 2
    assert len(stored(engine)) == 1


@pytest.mark.usefixtures("client")
def test_a_condition_back_after_the_acknowledgement_is_a_new_alert(
    clock: FrozenClock, engine: Engine
) -> None:
    arrive(clock, "CA1", "loans")
    (first,) = jobs.watch_floor().raised
    jobs.router().call_gone(call_sid="CA1", now=clock.now())
    jobs.watch_floor()
    with session_scope(engine) as session:
        alerts.acknowledge(session=session, alert_id=first.id, agent_id=None, now=clock.now())
    arrive(clock, "CA2", "loans")
    (second,) = jobs.watch_floor().raised
    assert second.id != first.id
    assert [alert.cleared_at is None for alert in stored(engine)] == [False, True]


@pytest.mark.usefixtures("client")
def test_an_alert_acknowledged_while_its_condition_holds_is_not_raised_again(
    clock: FrozenClock, engine: Engine, redis_client: redis.Redis
) -> None:
    arrive(clock, "CA1", "loans")
    (first,) = jobs.watch_floor().raised
    with session_scope(engine) as session:
        alerts.acknowledge(session=session, alert_id=first.id, agent_id=None, now=clock.now())
    redis_client.delete(HOLDING)  # even for a heartbeat that did not note it
    clock.advance(1)
    assert jobs.watch_floor().raised == []
    jobs.router().call_gone(call_sid="CA1", now=clock.now())
    assert [alert.id for alert in jobs.watch_floor().cleared] == [first.id]


@pytest.mark.usefixtures("client")
def test_a_second_heartbeat_that_missed_the_first_raises_nothing_twice(
    clock: FrozenClock, engine: Engine, redis_client: redis.Redis
) -> None:
    arrive(clock, "CA1", "loans")
    assert len(jobs.watch_floor().raised) == 1
    # Another worker that did not see the first one's note: the table's open key stops it.
    redis_client.delete(HOLDING)
    assert jobs.watch_floor().raised == []
    assert len(stored(engine)) == 1
    # ...and it still clears the alert when the condition ends.
    jobs.router().call_gone(call_sid="CA1", now=clock.now())
    assert len(jobs.watch_floor().cleared) == 1


@pytest.mark.usefixtures("client")
def test_a_heartbeat_finds_alerts_it_never_noted_and_clears_them(
    clock: FrozenClock, engine: Engine, redis_client: redis.Redis
) -> None:
    arrive(clock, "CA1", "loans")
    jobs.watch_floor()
    jobs.router().call_gone(call_sid="CA1", now=clock.now())
    redis_client.delete(HOLDING)  # Redis lost the note: the database still knows
    clock.advance(61)  # the note is rebuilt from the database once a minute
    assert [a.kind for a in jobs.watch_floor().cleared] == [AlertKind.no_agents]


@pytest.mark.usefixtures("client")
def test_raised_and_cleared_alerts_go_on_the_feed(
    clock: FrozenClock, redis_client: redis.Redis
) -> None:
    arrive(clock, "CA1", "loans")
    jobs.watch_floor()
    jobs.router().call_gone(call_sid="CA1", now=clock.now())
    jobs.watch_floor()
    feed = [AlertPublic.model_validate_json(data) for _, data in
            alert_feed.after(redis_client, "0-0")]  # fmt: skip
    assert [(a.kind, a.cleared_at is None) for a in feed] == [
        (AlertKind.no_agents, True), (AlertKind.no_agents, False),
    ]  # fmt: skip


@pytest.mark.usefixtures("client")
def test_the_heartbeat_runs_the_alert_rules(clock: FrozenClock, engine: Engine) -> None:
    arrive(clock, "CA1", "loans")
    jobs.heartbeat()
    assert kinds(engine) == [("no_agents", "loans")]
