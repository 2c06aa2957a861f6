"""Supervisors move waiting callers and raise their priority; the callers keep their wait."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from hotline.auth import Role
from hotline.clock import FrozenClock
from routing import jobs
from routing.router_types import AgentProfile
from tests.conftest import Twilio
from tests.ivr.caller import Caller
from tests.routing.staff import add_staff

STRANGER = "+8613612345678"


def waiting_caller(twilio: Twilio, clock: FrozenClock, key: str = "4") -> Caller:
    caller = Caller(twilio, clock, STRANGER)
    caller.dial()
    assert caller.press(key).enqueued() is not None
    return caller


def test_a_waiting_caller_moved_to_a_queue_with_a_free_agent_is_offered(
    twilio: Twilio, clock: FrozenClock, engine: Engine
) -> None:
    supervisor = add_staff(engine, clock, name="赵磊", role=Role.supervisor)
    caller = waiting_caller(twilio, clock)  # loans: nobody there
    router = jobs.router()
    router.agent_ready(
        agent=AgentProfile(
            agent_id=42, skills={"general": 5}, languages=["zh"], contact="client:agent_42"
        ),
        now=clock.now(),
    )
    clock.advance(40)
    response = twilio.client.patch(
        f"/api/supervisor/calls/{caller.sid}", json={"queue": "general"}, headers=supervisor.headers
    )
    assert response.status_code == 200, response.text
    assert response.json() == {
        "call_sid": caller.sid,
        "state": "offered",
        "queue": "general",
        "agent_id": 42,
    }


def test_raising_priority_puts_the_caller_first(
    twilio: Twilio, clock: FrozenClock, engine: Engine
) -> None:
    supervisor = add_staff(engine, clock, name="赵磊", role=Role.supervisor)
    first = waiting_caller(twilio, clock)
    clock.advance(10)
    second = waiting_caller(twilio, clock)
    response = twilio.client.patch(
        f"/api/supervisor/calls/{second.sid}", json={"priority": 1}, headers=supervisor.headers
    )
    assert response.json()["state"] == "waiting"
    outcome = jobs.router().agent_ready(
        agent=AgentProfile(
            agent_id=7, skills={"loans": 8}, languages=["zh"], contact="client:agent_7"
        ),
        now=clock.now(),
    )
    assert outcome.offered_call == second.sid
    assert jobs.router().call_state(first.sid)["state"] == "waiting"


@pytest.mark.parametrize(
    ("body", "status"),
    [({"queue": "nowhere"}, 422), ({}, 422), ({"priority": 9}, 422)],
)
def test_bad_moves_are_refused(
    twilio: Twilio, clock: FrozenClock, engine: Engine, body: dict[str, object], status: int
) -> None:
    supervisor = add_staff(engine, clock, name="赵磊", role=Role.supervisor)
    caller = waiting_caller(twilio, clock)
    response = twilio.client.patch(
        f"/api/supervisor/calls/{caller.sid}", json=body, headers=supervisor.headers
    )
    assert response.status_code == status
    assert response.json()["error"] == "validation_error"
    assert jobs.router().call_state(caller.sid)["queue"] == "loans"


def test_only_waiting_callers_move(twilio: Twilio, clock: FrozenClock, engine: Engine) -> None:
    supervisor = add_staff(engine, clock, name="赵磊", role=Role.supervisor)
    caller = waiting_caller(twilio, clock)
    caller.hang_up()
    response = twilio.client.patch(
        f"/api/supervisor/calls/{caller.sid}", json={"priority": 1}, headers=supervisor.headers
    )
    assert response.status_code == 409


@pytest.mark.parametrize(("who", "status"), [("anonymous", 401), ("agent", 403), ("admin", 200)])
def test_who_may_move_a_caller(
    twilio: Twilio,
    clock: FrozenClock,
    engine: Engine,
    admin_headers: dict[str, str],
    who: str,
    status: int,
) -> None:
    caller = waiting_caller(twilio, clock)
    headers = {
        "anonymous": {},
        "agent": add_staff(engine, clock, name="陈静").headers,
        "admin": admin_headers,
    }[who]
    response = twilio.client.patch(
        f"/api/supervisor/calls/{caller.sid}", json={"priority": 2}, headers=headers
    )
    assert response.status_code == status
