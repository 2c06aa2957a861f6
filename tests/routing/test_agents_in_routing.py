"""The agent API and the router agree: states people choose change who gets calls."""

from __future__ import annotations

import pytest
import redis
from rq import Queue
from sqlalchemy import Engine

from crm import service as crm
from crm.models import CustomerBase
from hotline.auth import Role
from hotline.clock import FrozenClock
from hotline.db import session_scope
from routing import jobs
from routing.engine import SyncRouter
from tests.conftest import Twilio
from tests.ivr.caller import Caller
from tests.routing.staff import add_staff

STRANGER = "+8613612345678"


def put_state(
    twilio: Twilio, headers: dict[str, str], agent_id: int, state: str, reason: str | None = None
) -> int:
    body: dict[str, str] = {"state": state}
    if reason:
        body["reason"] = reason
    return twilio.client.put(
        f"/api/agents/{agent_id}/state", json=body, headers=headers
    ).status_code


def test_becoming_available_takes_the_waiting_caller(
    twilio: Twilio, clock: FrozenClock, engine: Engine
) -> None:
    me = add_staff(engine, clock, name="陈静")  # cards level 5
    caller = Caller(twilio, clock, STRANGER)
    caller.dial()
    assert caller.press("1").enqueued() == "cards"
    assert put_state(twilio, me.headers, me.agent_id, "available") == 200
    router = jobs.router()
    assert router.call_state(caller.sid)["agent"] == str(me.agent_id)
    assert router.agent_state(me.agent_id)["state"] == "reserved"
    pushes = Queue("default", connection=twilio.redis).jobs
    assert any(job.func_name == "routing.jobs.push_offer" for job in pushes)


def test_break_takes_the_agent_out_of_matching(
    twilio: Twilio, clock: FrozenClock, engine: Engine
) -> None:
    me = add_staff(engine, clock, name="陈静")
    put_state(twilio, me.headers, me.agent_id, "available")
    assert put_state(twilio, me.headers, me.agent_id, "break", "lunch") == 200
    caller = Caller(twilio, clock, STRANGER)
    caller.dial()
    assert caller.press("1").enqueued() == "cards"
    assert jobs.router().agent_state(me.agent_id)["state"] == "break"


def test_no_break_in_the_middle_of_a_call(
    twilio: Twilio, clock: FrozenClock, engine: Engine
) -> None:
    me = add_staff(engine, clock, name="陈静")
    supervisor = add_staff(engine, clock, name="赵磊", role=Role.supervisor)
    put_state(twilio, me.headers, me.agent_id, "available")
    caller = Caller(twilio, clock, STRANGER)
    caller.dial()
    assert caller.press("1").root.find("Dial") is not None
    response = twilio.client.put(
        f"/api/agents/{me.agent_id}/state",
        json={"state": "break", "reason": "tea"},
        headers=me.headers,
    )
    assert response.status_code == 409
    assert response.json()["detail"]["state"] == "reserved"
    # Not even a supervisor can pull an agent out of a ringing call.
    assert put_state(twilio, supervisor.headers, me.agent_id, "offline") == 409
    history = twilio.client.get(
        f"/api/agents/{me.agent_id}/state-history", headers=me.headers
    ).json()
    assert [change["to_state"] for change in history] == ["available"]


def test_new_skills_count_at_once(
    twilio: Twilio, clock: FrozenClock, engine: Engine, admin_headers: dict[str, str]
) -> None:
    me = add_staff(engine, clock, name="陈静")
    put_state(twilio, me.headers, me.agent_id, "available")
    caller = Caller(twilio, clock, STRANGER)
    caller.dial()
    assert caller.press("4").enqueued() == "loans"
    response = twilio.client.patch(
        f"/api/agents/{me.agent_id}", json={"skills": {"loans": 7}}, headers=admin_headers
    )
    assert response.status_code == 200
    assert jobs.router().call_state(caller.sid)["agent"] == str(me.agent_id)


def test_the_routers_own_changes_reach_the_agents_history_once(
    twilio: Twilio, clock: FrozenClock, engine: Engine
) -> None:
    me = add_staff(engine, clock, name="陈静")
    put_state(twilio, me.headers, me.agent_id, "available")
    caller = Caller(twilio, clock, STRANGER)
    caller.dial()
    dial = caller.press("1").root.find("Dial")
    assert dial is not None
    clock.advance(3)
    leg = {"CallSid": "CA" + "5" * 32, "ParentCallSid": caller.sid, "CallStatus": "in-progress"}
    twilio.post(f"/twilio/voice/agent-leg?agent={me.agent_id}", leg)
    clock.advance(60)
    twilio.post(dial.get("action") or "", {"CallSid": caller.sid, "DialCallStatus": "completed"})
    assert jobs.record_agent_states() == 3
    assert jobs.record_agent_states() == 0  # nothing new: nothing written twice
    history = twilio.client.get(
        f"/api/agents/{me.agent_id}/state-history", headers=me.headers
    ).json()
    steps = sorted(history, key=lambda change: change["at"])
    assert [(c["to_state"], c["actor"]) for c in steps] == [
        ("available", f"agent:{me.agent_id}"),
        ("reserved", "system"),
        ("busy", "system"),
        ("wrap_up", "system"),
    ]


def test_a_caller_with_an_open_case_gets_the_agent_who_last_handled_it(
    twilio: Twilio, clock: FrozenClock, engine: Engine
) -> None:
    with session_scope(engine) as session:
        crm.create_customer(
            session=session, data=CustomerBase(name="李娜"), phones=[STRANGER], now=clock.now()
        )
    first_agent = add_staff(engine, clock, name="陈静")
    second_agent = add_staff(engine, clock, name="刘洋")
    put_state(twilio, second_agent.headers, second_agent.agent_id, "available")
    clock.advance(5)
    put_state(twilio, first_agent.headers, first_agent.agent_id, "available")
    first = Caller(twilio, clock, STRANGER)
    first.dial()
    dial = first.press("1").root.find("Dial")
    assert dial is not None and (dial.find("Client").text or "").endswith(
        str(second_agent.agent_id)
    )  # type: ignore[union-attr]
    clock.advance(60)
    twilio.post(
        dial.get("action") or "",
        {"CallSid": first.sid, "DialCallStatus": "completed", "DialCallDuration": "55"},
    )
    first.hang_up(after=1, duration=70)
    clock.advance(30)  # wrap-up over
    jobs.tick()
    # Now the first agent has idled longest, but the caller's case belongs to the second.
    again = Caller(twilio, clock, STRANGER)
    again.dial()
    dial = again.press("1").root.find("Dial")
    assert dial is not None and (dial.find("Client").text or "").endswith(
        str(second_agent.agent_id)
    )  # type: ignore[union-attr]


def test_redis_away_is_a_503_in_the_error_shape(
    twilio: Twilio, clock: FrozenClock, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    me = add_staff(engine, clock, name="陈静")

    def away(*args: object, **kwargs: object) -> None:
        raise redis.ConnectionError("Redis is restarting")

    monkeypatch.setattr(SyncRouter, "agent_ready", away)
    response = twilio.client.put(
        f"/api/agents/{me.agent_id}/state", json={"state": "available"}, headers=me.headers
    )
    assert response.status_code == 503
    assert response.json()["error"] == "service_unavailable"
    assert response.headers["Retry-After"] == "5"
    # The request rolled back: the agent's record did not change either.
    history = twilio.client.get(f"/api/agents/{me.agent_id}/state-history", headers=me.headers)
    assert history.json() == []
