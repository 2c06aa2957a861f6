"""Ended calls wait in Redis until their tickets can be written: a database outage loses none."""

from __future__ import annotations

import pytest
import redis
from sqlalchemy import Engine, func
from sqlmodel import Session, select

from crm.models import CallLog
from hotline.clock import FrozenClock
from ivr import jobs
from ivr.session import ENDED_CALLS, ENDED_CALLS_TAKEN
from routing import jobs as routing_jobs
from tests.conftest import Twilio
from tests.ivr.caller import Caller


def logged(engine: Engine) -> int:
    with Session(engine) as session:
        return int(session.exec(select(func.count()).select_from(CallLog)).one())


def test_calls_wait_while_the_database_is_away_then_are_logged(
    twilio: Twilio,
    clock: FrozenClock,
    engine: Engine,
    redis_client: redis.Redis,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    callers = [Caller(twilio, clock, f"+86136123456{n:02d}") for n in range(3)]
    for caller in callers:
        caller.dial()
        caller.press("3")
        caller.status("completed", duration=30)
    assert redis_client.llen(ENDED_CALLS) == 3

    def database_down(call_sid: str) -> None:
        raise ConnectionError("PostgreSQL is restarting")

    with monkeypatch.context() as patch:
        patch.setattr(jobs, "finalise_call", database_down)
        assert jobs.log_ended_calls() == 0
    assert redis_client.llen(ENDED_CALLS) == 3 and redis_client.llen(ENDED_CALLS_TAKEN) == 0
    assert logged(engine) == 0
    assert jobs.log_ended_calls() == 3
    assert logged(engine) == 3
    assert redis_client.llen(ENDED_CALLS) == 0


def test_calls_a_crashed_logger_had_taken_go_back_in_line(
    twilio: Twilio, clock: FrozenClock, engine: Engine, redis_client: redis.Redis
) -> None:
    caller = Caller(twilio, clock, "+8613612345678")
    caller.dial()
    caller.status("completed", duration=10)
    # A worker took the call and died before writing it.
    redis_client.rpoplpush(ENDED_CALLS, ENDED_CALLS_TAKEN)
    assert jobs.log_ended_calls() == 1
    assert logged(engine) == 1 and redis_client.llen(ENDED_CALLS_TAKEN) == 0


def test_a_call_whose_end_never_came_is_logged_after_the_longest_call(
    twilio: Twilio, clock: FrozenClock, engine: Engine, redis_client: redis.Redis
) -> None:
    caller = Caller(twilio, clock, "+8613612345678")
    caller.dial()
    assert caller.press("1").enqueued() == "cards"
    # Twilio's final status callback is lost. Within the longest call's time nothing happens.
    clock.advance(3 * 3600)
    assert jobs.log_ended_calls() == 0
    clock.advance(3600 + 1)  # HOTLINE_MAX_CALL_SECONDS is 4 hours
    assert jobs.log_ended_calls() == 1
    with Session(engine) as session:
        log = session.exec(select(CallLog)).one()
    assert log.call_sid == caller.sid and log.twilio_status == "unknown"
    assert routing_jobs.router().call_state(caller.sid)["state"] == "gone"
    assert jobs.log_ended_calls() == 0  # once
    assert redis_client.zcard("ivr:open") == 0
