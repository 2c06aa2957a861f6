"""The agent console's API schemas: what `GET /api/agents/me/call` sends (the screen pop)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

CallPhase = Literal["offered", "connected", "wrap_up"]


class CustomerCard(BaseModel):
    id: int
    name: str
    segment: str = Field(description="vip or standard")
    preferred_language: str


class CallerCard(BaseModel):
    number_masked: str = Field(description="the caller's number, masked: +86138****5678")
    customer: CustomerCard | None = Field(description="null for a caller the CRM does not know")


class TimelineEntry(BaseModel):
    at: datetime
    kind: str
    actor: str
    internal: bool
    data: dict[str, Any]


class TicketCard(BaseModel):
    number: str
    subject: str
    status: str
    category: str
    priority: int
    complaint: bool
    updated_at: datetime
    latest: list[TimelineEntry] = Field(description="the newest timeline entries, newest first")


class CallOnDesk(BaseModel):
    call_sid: str
    queue: str
    phase: CallPhase = Field(description="ringing at the agent, talking, or in wrap-up after it")
    offered_at: datetime | None
    answered_at: datetime | None
    caller: CallerCard
    tickets: list[TicketCard] = Field(description="the caller's open tickets, latest first")


class AgentDesk(BaseModel):
    """The agent's state as the router holds it, and the call offered to them or on their line."""

    state: str
    since: datetime | None
    reason: str | None
    call: CallOnDesk | None
