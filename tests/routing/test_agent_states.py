"""Agent states: who may move an agent where, and a record of every change with its time."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session

from hotline.clock import FrozenClock
from hotline.errors import Conflict
from routing import service
from routing.models import Agent, AgentBase, AgentState
from routing.service import StateChangeRefused
from tests.routing.staff import People, add_people

PERSONAL = ["available", "break", "offline"]


@pytest.fixture
def people(engine: Engine, clock: FrozenClock) -> People:
    return add_people(engine, clock)


@pytest.fixture
def agent_id(session: Session, clock: FrozenClock) -> int:
    agent = service.create_agent(
        session=session, data=AgentBase(name="陈静", skills={"cards": 8}), now=clock.now()
    )
    session.commit()
    assert agent.id is not None
    return agent.id


def _move(session: Session, agent_id: int, state: AgentState, clock: FrozenClock) -> None:
    """The routing engine moves the agent."""
    service.set_state(
        session=session,
        agent_id=agent_id,
        state=state,
        actor="system",
        now=clock.now(),
        by_system=True,
    )


def _choose(
    session: Session,
    agent_id: int,
    state: AgentState,
    clock: FrozenClock,
    *,
    reason: str | None = None,
    actor: str = "agent:1",
    forced: bool = False,
) -> Agent:
    """A person moves the agent: themselves, or a supervisor when `forced`."""
    return service.set_state(
        session=session,
        agent_id=agent_id,
        state=state,
        reason=reason,
        actor=actor,
        now=clock.now(),
        forced=forced,
    )


@pytest.mark.parametrize("state", [AgentState.available, AgentState.offline])
def test_an_agent_chooses_available_or_offline(
    session: Session, agent_id: int, clock: FrozenClock, state: AgentState
) -> None:
    if state is AgentState.offline:
        _move(session, agent_id, AgentState.available, clock)
    agent = _choose(session, agent_id, state, clock)
    assert agent.state == state and agent.state_since == clock.now()


def test_a_break_carries_its_reason_until_it_ends(
    session: Session, agent_id: int, clock: FrozenClock
) -> None:
    agent = _choose(session, agent_id, AgentState.on_break, clock, reason="lunch")
    assert agent.break_reason == "lunch"
    with pytest.raises(Conflict):
        _choose(session, agent_id, AgentState.on_break, clock)
    agent = _choose(session, agent_id, AgentState.available, clock)
    assert agent.break_reason is None


@pytest.mark.parametrize(
    "state", [AgentState.reserved, AgentState.busy, AgentState.wrap_up, AgentState.missed]
)
@pytest.mark.parametrize("forced", [False, True])
def test_system_states_are_refused_to_people(
    session: Session, agent_id: int, clock: FrozenClock, state: AgentState, forced: bool
) -> None:
    with pytest.raises(StateChangeRefused) as refused:
        _choose(session, agent_id, state, clock, actor="agent:9", forced=forced)
    assert refused.value.detail["allowed"] == PERSONAL


@pytest.mark.parametrize("on_call", [AgentState.reserved, AgentState.busy])
def test_an_agent_on_a_call_waits_for_the_engine_but_a_supervisor_may_force(
    session: Session, agent_id: int, clock: FrozenClock, on_call: AgentState
) -> None:
    _move(session, agent_id, AgentState.available, clock)
    _move(session, agent_id, on_call, clock)
    with pytest.raises(StateChangeRefused) as refused:
        _choose(session, agent_id, AgentState.offline, clock)
    assert refused.value.detail["allowed"] == []
    forced = _choose(session, agent_id, AgentState.offline, clock, actor="agent:2", forced=True)
    assert forced.state == AgentState.offline


@pytest.mark.parametrize("after", [AgentState.wrap_up, AgentState.missed])
def test_after_a_call_or_a_missed_offer_the_agent_comes_back_themselves(
    session: Session, agent_id: int, clock: FrozenClock, after: AgentState
) -> None:
    _move(session, agent_id, after, clock)
    agent = _choose(session, agent_id, AgentState.available, clock)
    assert agent.state == AgentState.available


def test_the_engine_walks_an_agent_through_a_call(
    session: Session, agent_id: int, clock: FrozenClock
) -> None:
    path = [
        AgentState.available,
        AgentState.reserved,
        AgentState.busy,
        AgentState.wrap_up,
        AgentState.available,
    ]
    for state in path:
        clock.advance(30)
        _move(session, agent_id, state, clock)
    history = service.state_history(session=session, agent_id=agent_id)
    assert [change.to_state for change in reversed(history)] == path
    assert all(change.actor == "system" for change in history)


def test_every_change_is_recorded_with_its_time(
    session: Session, agent_id: int, clock: FrozenClock
) -> None:
    start = clock.now()
    _choose(session, agent_id, AgentState.available, clock)
    clock.advance(600)
    _choose(session, agent_id, AgentState.on_break, clock, reason="training", actor="admin-token")
    session.commit()
    newest, oldest = service.state_history(session=session, agent_id=agent_id)
    assert (oldest.from_state, oldest.to_state, oldest.at, oldest.actor) == (
        "offline",
        "available",
        start,
        "agent:1",
    )
    assert (newest.from_state, newest.to_state, newest.reason) == ("available", "break", "training")
    assert newest.at == start + timedelta(seconds=600) and newest.at.tzinfo is not None


def test_the_same_state_again_records_nothing(
    session: Session, agent_id: int, clock: FrozenClock
) -> None:
    for _ in range(3):
        _choose(session, agent_id, AgentState.available, clock)
    assert len(service.state_history(session=session, agent_id=agent_id)) == 1


def test_a_deactivated_agent_has_no_state_to_change(
    session: Session, agent_id: int, clock: FrozenClock
) -> None:
    service.deactivate_agent(session=session, agent_id=agent_id, now=clock.now(), actor="admin")
    with pytest.raises(Conflict):
        _move(session, agent_id, AgentState.available, clock)


def test_the_api_refuses_a_system_state_with_the_allowed_ones(
    app_client: TestClient, people: People
) -> None:
    response = app_client.put(
        f"/api/agents/{people.me.agent_id}/state",
        json={"state": "busy"},
        headers=people.me.headers,
    )
    assert response.status_code == 409
    body = response.json()
    assert body["error"] == "conflict"
    assert body["detail"]["allowed"] == PERSONAL and body["detail"]["state"] == "offline"


def test_the_api_needs_a_reason_for_a_break(app_client: TestClient, people: People) -> None:
    url = f"/api/agents/{people.me.agent_id}/state"
    response = app_client.put(url, json={"state": "break"}, headers=people.me.headers)
    assert response.status_code == 422
    assert response.json()["error"] == "validation_error"
    ok = app_client.put(url, json={"state": "break", "reason": "lunch"}, headers=people.me.headers)
    assert ok.status_code == 200
    assert ok.json()["state"] == "break" and ok.json()["break_reason"] == "lunch"


def test_a_supervisor_forcing_a_state_is_named_in_the_history(
    app_client: TestClient, people: People, clock: FrozenClock
) -> None:
    me = f"/api/agents/{people.me.agent_id}"
    app_client.put(f"{me}/state", json={"state": "available"}, headers=people.me.headers)
    clock.advance(120)
    forced = app_client.put(
        f"{me}/state",
        json={"state": "break", "reason": "coaching"},
        headers=people.supervisor.headers,
    )
    assert forced.status_code == 200
    history = app_client.get(f"{me}/state-history", headers=people.me.headers).json()
    assert [(item["to_state"], item["actor"]) for item in history] == [
        ("break", f"agent:{people.supervisor.agent_id}"),
        ("available", f"agent:{people.me.agent_id}"),
    ]
    assert history[0]["at"] == (clock.now()).isoformat().replace("+00:00", "Z")
