"""Agents. Skill routing builds on these records."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from routing.models import Agent, AgentBase


def create_agent(*, session: Session, data: AgentBase, now: datetime) -> Agent:
    agent = Agent.model_validate(data, update={"created_at": now})
    session.add(agent)
    session.flush()
    return agent


def list_agents(*, session: Session) -> list[Agent]:
    return list(session.exec(select(Agent).order_by(col(Agent.id))))
