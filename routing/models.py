"""Agents: who takes calls, with which skills and languages; their states and access tokens."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, StringConstraints, model_validator
from sqlalchemy import JSON, Column, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from hotline.auth import Role
from hotline.db_types import UTCDateTime
from hotline.phone import to_e164

# The languages the IVR speaks; an agent's languages are among them.
LANGUAGES = ("zh", "en")

# An agent's role is the shell's access level; the name stays for the domain's callers.
AgentRole = Role


# Enums are stored as plain strings: a new value needs no ALTER TYPE on PostgreSQL.
class AgentState(StrEnum):
    offline = "offline"
    available = "available"
    reserved = "reserved"  # a call is being offered
    busy = "busy"
    wrap_up = "wrap_up"
    on_break = "break"
    missed = "missed"  # did not answer an offer: not offered again until they come back


def _e164(value: str) -> str:
    number = to_e164(value) if value.startswith("+") else None
    if number is None:
        raise ValueError("not an E.164 phone number (with its country code, e.g. +8613800138000)")
    return number


def _known_language(value: str) -> str:
    if value not in LANGUAGES:
        raise ValueError(f"languages are {', '.join(LANGUAGES)}")
    return value


SkillName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z_]{1,31}$")]
SkillLevel = Annotated[int, Field(ge=1, le=10)]
Skills = dict[SkillName, SkillLevel]
Language = Annotated[str, AfterValidator(_known_language)]
Languages = Annotated[list[Language], Field(max_length=2)]
PhoneNumber = Annotated[str, AfterValidator(_e164)]
Login = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, to_lower=True, pattern=r"^[a-z0-9][a-z0-9._@+-]{2,119}$"
    ),
]
Password = Annotated[str, StringConstraints(min_length=10, max_length=200)]
BreakReason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]


class AgentBase(SQLModel):
    name: str = Field(min_length=1, max_length=120)
    # skill -> level 1..10, e.g. {"cards": 8, "complaints": 5}
    skills: Skills = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    languages: Languages = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # Calls reach the agent on the Twilio Client identity `agent_<id>` or, if set, this number.
    phone_number: PhoneNumber | None = Field(default=None, sa_type=String(20))
    department_id: int | None = Field(default=None, foreign_key="department.id")
    role: AgentRole = Field(default=AgentRole.agent, sa_type=String(16))


class Agent(AgentBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    # None: the agent cannot sign in (e.g. demo agents until an admin gives them a login).
    login: str | None = Field(default=None, max_length=120, unique=True, index=True)
    password_hash: str | None = Field(default=None, max_length=200)
    active: bool = True
    state: AgentState = Field(default=AgentState.offline, sa_type=String(16))
    state_since: datetime = Field(sa_type=UTCDateTime)
    break_reason: str | None = Field(default=None, max_length=120)
    created_at: datetime = Field(sa_type=UTCDateTime)

    @property
    def client_identity(self) -> str:
        return f"agent_{self.id}"


class AgentCreate(AgentBase):
    login: Login
    password: Password


class AgentUpdate(SQLModel):
    """Every field optional: only those sent change."""

    name: str | None = Field(default=None, min_length=1, max_length=120)
    skills: Skills | None = None
    languages: Languages | None = None
    phone_number: PhoneNumber | None = None
    department_id: int | None = None
    role: AgentRole | None = None
    login: Login | None = None
    password: Password | None = None
    active: bool | None = None


class AgentPublic(AgentBase):
    id: int
    login: str | None
    active: bool
    state: AgentState
    state_since: datetime
    break_reason: str | None
    created_at: datetime
    client_identity: str


class AgentStateUpdate(BaseModel):
    state: AgentState
    reason: BreakReason | None = None

    @model_validator(mode="after")
    def _break_needs_a_reason(self) -> AgentStateUpdate:
        if self.state is AgentState.on_break and self.reason is None:
            raise ValueError("a break needs a reason")
        return self


class AgentStateChange(SQLModel, table=True):
    """One change of an agent's state: the record behind stats and audits."""

    __tablename__ = "agent_state_change"

    id: int | None = Field(default=None, primary_key=True)
    agent_id: int = Field(foreign_key="agent.id", index=True)
    from_state: AgentState = Field(sa_type=String(16))
    to_state: AgentState = Field(sa_type=String(16))
    reason: str | None = Field(default=None, max_length=120)
    # "agent:<id>", "admin-token" or "system" (the routing engine).
    actor: str = Field(max_length=64)
    at: datetime = Field(sa_type=UTCDateTime, index=True)


class AgentStateChangePublic(SQLModel):
    from_state: AgentState
    to_state: AgentState
    reason: str | None
    actor: str
    at: datetime


class ApiToken(SQLModel, table=True):
    """A bearer token of one agent: a sign-in session or a named API token."""

    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    agent_id: int = Field(foreign_key="agent.id", index=True)
    name: str = Field(max_length=64)
    # SHA-256 of the token, hex: the token itself is shown once and never stored.
    token_hash: str = Field(max_length=64, unique=True, index=True)
    created_at: datetime = Field(sa_type=UTCDateTime)
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ApiTokenPublic(SQLModel):
    id: int
    name: str
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime
    revoked_at: datetime | None


class ApiTokenCreate(SQLModel):
    name: str = Field(min_length=1, max_length=64)
    expires_in_days: int = Field(default=90, ge=1, le=365)


class IssuedToken(ApiTokenPublic):
    """A token as issued: the only time its secret is shown."""

    token: str


class LoginRequest(BaseModel):
    login: str = Field(min_length=1, max_length=120)
    password: str = Field(min_length=1, max_length=200)


class LoginResult(BaseModel):
    token: str
    expires_at: datetime
    agent: AgentPublic


class VoiceToken(BaseModel):
    token: str
    identity: str
    expires_in: int


class DailyFigures(SQLModel, table=True):
    """A queue's counters for one bank-local day, copied from the router's counters by the
    heartbeat: the history of the live figures. Queue "*" is every queue together, with the
    agents' time in the states occupancy weighs."""

    __tablename__ = "daily_figures"
    __table_args__ = (UniqueConstraint("day", "queue"),)

    id: int | None = Field(default=None, primary_key=True)
    day: date = Field(index=True)
    queue: str = Field(max_length=64)
    offered: int = 0
    answered: int = 0
    answered_within_sl: int = 0
    abandoned: int = 0
    abandoned_after_sl: int = 0
    short_abandons: int = 0
    handled: int = 0
    missed_offers: int = 0
    wait_answered_seconds: float = 0
    longest_wait_seconds: float = 0
    talk_seconds: float = 0
    wrap_up_seconds: float = 0
    available_seconds: float = 0
    busy_seconds: float = 0
    wrap_up_state_seconds: float = 0
    updated_at: datetime = Field(sa_type=UTCDateTime)


class AlertKind(StrEnum):
    service_level = "service_level"  # a queue's SL over the last 15 minutes below its target
    long_wait = "long_wait"  # a caller has waited longer than the limit
    no_agents = "no_agents"  # callers waiting and nobody signed in who could take them


class AlertBase(SQLModel):
    kind: AlertKind = Field(sa_type=String(32))
    queue: str = Field(max_length=64)
    raised_at: datetime = Field(sa_type=UTCDateTime, index=True)
    # Set when the condition ends; back to null if it returns before anyone acknowledged.
    cleared_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    acknowledged_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    # None when acknowledged with HOTLINE_ADMIN_TOKEN, which is no agent.
    acknowledged_by: int | None = Field(default=None, foreign_key="agent.id")
    message_zh: str = Field(max_length=300)
    message_en: str = Field(max_length=300)
    # The figures that raised it (rate, target, waits, counts), as they were then.
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class Alert(AlertBase, table=True):
    """Something a supervisor should act on; raised and cleared by the heartbeat's rules."""

    __tablename__ = "alert"

    id: int | None = Field(default=None, primary_key=True)
    # "<kind>:<queue>" until acknowledged, then NULL: the unique index keeps one open alert
    # per kind and queue, however many heartbeats raise it at once.
    open_key: str | None = Field(default=None, max_length=100, unique=True)


class AlertPublic(AlertBase):
    id: int
