"""Agents, supervisors and admins for tests, each with a bearer token ready to use."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Engine

from hotline.auth import Role
from hotline.clock import FrozenClock
from hotline.db import session_scope
from routing import access, service
from routing.models import AgentBase, AgentCreate

PASSWORD = "correct horse battery staple"


@dataclass(frozen=True)
class Staff:
    agent_id: int
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def add_staff(
    engine: Engine,
    clock: FrozenClock,
    *,
    name: str,
    role: Role = Role.agent,
    login: str | None = None,
    password: str | None = None,
) -> Staff:
    """An agent with a live token; with a login and password they can also sign in."""
    base = AgentBase(name=name, role=role, skills={"cards": 5}, languages=["zh"])
    data = (
        AgentCreate(**base.model_dump(), login=login, password=password)
        if login and password
        else base
    )
    with session_scope(engine) as session:
        agent = service.create_agent(session=session, data=data, now=clock.now())
        assert agent.id is not None
        issued = access.issue_token(
            session=session,
            agent_id=agent.id,
            name="test",
            now=clock.now(),
            expires_at=clock.now() + timedelta(days=1),
        )
        return Staff(agent_id=agent.id, token=issued.token)


@dataclass(frozen=True)
class People:
    """One of each: the agent a route acts on ("me"), another agent, a supervisor, an admin."""

    me: Staff
    other: Staff
    supervisor: Staff
    admin: Staff


def add_people(engine: Engine, clock: FrozenClock) -> People:
    return People(
        me=add_staff(engine, clock, name="陈静"),
        other=add_staff(engine, clock, name="刘洋"),
        supervisor=add_staff(engine, clock, name="赵磊", role=Role.supervisor),
        admin=add_staff(engine, clock, name="Admin", role=Role.admin),
    )
