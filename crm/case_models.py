"""Working a case beyond the ticket itself: hand-offs to departments, escalations to
management with their background pack, SLA clocks and complaint extensions."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, model_validator
from pydantic import Field as PydanticField
from sqlalchemy import JSON, Column, Index, String
from sqlmodel import Field, SQLModel

from crm.ticket_models import Ticket
from hotline.db_types import UTCDateTime

# --- hand-offs -------------------------------------------------------------------------------


class Handoff(SQLModel, table=True):
    """A question put to a department about a ticket, with a due time and, later, the answer."""

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    department_id: int = Field(foreign_key="department.id", index=True)
    asked_by: str = Field(max_length=64)
    question: str = Field(max_length=4000)
    asked_at: datetime = Field(sa_type=UTCDateTime)
    due_at: datetime = Field(sa_type=UTCDateTime, index=True)
    answered_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    answer: str | None = Field(default=None, max_length=4000)
    answered_by: str | None = Field(default=None, max_length=64)
    # Set once by the SLA job when the due time passed unanswered.
    overdue: bool = Field(default=False, index=True)


class HandoffRequest(BaseModel):
    department: str = PydanticField(min_length=1, max_length=32)
    question: str = PydanticField(min_length=1, max_length=4000)
    due_at: datetime | None = None
    # Counted in the bank's business hours, as the department works them.
    due_in_hours: float | None = PydanticField(default=None, gt=0, le=24 * 30)

    @model_validator(mode="after")
    def _one_due(self) -> HandoffRequest:
        if (self.due_at is None) == (self.due_in_hours is None):
            raise ValueError("give exactly one of due_at and due_in_hours")
        if self.due_at is not None and self.due_at.tzinfo is None:
            raise ValueError("due_at needs a time zone, e.g. 2026-11-24T18:00:00+08:00")
        return self


class HandoffAnswer(BaseModel):
    answer: str = PydanticField(min_length=1, max_length=4000)


class HandoffPublic(SQLModel):
    id: int
    ticket: str
    department: str
    asked_by: str
    question: str
    asked_at: datetime
    due_at: datetime
    answered_at: datetime | None
    answer: str | None
    answered_by: str | None
    overdue: bool


# --- escalations -----------------------------------------------------------------------------


class EscalationTrigger(StrEnum):
    manual = "manual"
    sla_breach = "sla_breach"
    severity = "severity"
    repeat_contact = "repeat_contact"
    survey = "survey"


class Escalation(SQLModel, table=True):
    """A ticket put before management, with the background they need to act on it."""

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    trigger: EscalationTrigger = Field(sa_type=String(24))
    reason: str = Field(max_length=1000)
    raised_by: str = Field(max_length=64)
    raised_at: datetime = Field(sa_type=UTCDateTime, index=True)
    acknowledged_by: str | None = Field(default=None, max_length=64)
    acknowledged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Closed when the ticket is resolved or closed; open ones block a second of the same trigger.
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    pack: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class EscalationRequest(BaseModel):
    reason: str = PydanticField(min_length=1, max_length=1000)


class EscalationSummary(SQLModel):
    id: int
    ticket: str
    trigger: EscalationTrigger
    reason: str
    raised_by: str
    raised_at: datetime
    acknowledged_by: str | None
    acknowledged_at: datetime | None
    closed_at: datetime | None


class EscalationPublic(EscalationSummary):
    pack: dict[str, Any]


# --- SLA clocks and complaint extensions -----------------------------------------------------


class TicketSla(SQLModel, table=True):
    """A ticket's SLA clock state; the due times themselves live on the ticket."""

    __tablename__ = "ticket_sla"

    ticket_id: int = Field(foreign_key="ticket.id", primary_key=True)
    started_at: datetime = Field(sa_type=UTCDateTime)
    first_responded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # While pending the customer the clocks stand still; the time is added to the budgets.
    paused_since: datetime | None = Field(default=None, sa_type=UTCDateTime)
    paused_business_seconds: float = 0.0
    paused_calendar_seconds: float = 0.0
    extension_days: int = 0
    first_response_warned: bool = False
    resolution_warned: bool = False
    first_response_breached: bool = False
    resolution_breached: bool = False


# The SLA watch looks up the tickets whose clocks run out soon, every minute.
Index("ix_ticket_first_response_due_at", Ticket.__table__.c.first_response_due_at)  # type: ignore[attr-defined]
Index("ix_ticket_resolution_due_at", Ticket.__table__.c.resolution_due_at)  # type: ignore[attr-defined]


class ExtensionRequest(BaseModel):
    days: int
    reason: str = PydanticField(min_length=1, max_length=1000)


class SlaExtension(SQLModel, table=True):
    """A complaint's resolution clock extended, as the regulator allows, once approved."""

    __tablename__ = "sla_extension"

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    days: int
    reason: str = Field(max_length=1000)
    requested_by: str = Field(max_length=64)
    requested_at: datetime = Field(sa_type=UTCDateTime)
    approved_by: str | None = Field(default=None, max_length=64)
    approved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class SlaExtensionPublic(SQLModel):
    id: int
    ticket: str
    days: int
    reason: str
    requested_by: str
    requested_at: datetime
    approved_by: str | None
    approved_at: datetime | None
    resolution_due_at: datetime | None
