"""Agents: who takes calls, with which skills and languages."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Column, String
from sqlmodel import Field, SQLModel

from hotline.db_types import UTCDateTime


class AgentRole(StrEnum):
    agent = "agent"
    supervisor = "supervisor"
    admin = "admin"


class AgentState(StrEnum):
    offline = "offline"
    available = "available"
    reserved = "reserved"
    busy = "busy"
    wrap_up = "wrap_up"
    on_break = "break"
    missed = "missed"


class AgentBase(SQLModel):
    name: str = Field(max_length=120)
    # skill -> level 1..10, e.g. {"cards": 8, "complaints": 5}
    skills: dict[str, int] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    languages: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # Calls reach the agent on a Twilio Client identity or, if set, on this E.164 number.
    phone_number: str | None = Field(default=None, max_length=20)
    department_id: int | None = Field(default=None, foreign_key="department.id")
    role: AgentRole = Field(default=AgentRole.agent, sa_type=String(16))


class Agent(AgentBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    state: AgentState = Field(default=AgentState.offline, sa_type=String(16))
    created_at: datetime = Field(sa_type=UTCDateTime)

    @property
    def client_identity(self) -> str:
        return f"agent_{self.id}"
