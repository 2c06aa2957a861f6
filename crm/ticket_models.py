"""Tickets: the case record, its category tree, its links and its append-only timeline."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import AliasChoices, BaseModel
from pydantic import Field as PydanticField
from sqlalchemy import JSON, Column, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from hotline.db_types import UTCDateTime


class Channel(StrEnum):
    phone = "phone"
    sms = "sms"
    email = "email"
    web = "web"


class TicketStatus(StrEnum):
    new = "new"
    open = "open"
    pending_customer = "pending_customer"
    pending_department = "pending_department"
    escalated = "escalated"
    resolved = "resolved"
    closed = "closed"


# A repeat contact attaches to a ticket in one of these states.
ACTIVE_STATUSES = (
    TicketStatus.new,
    TicketStatus.open,
    TicketStatus.pending_customer,
    TicketStatus.pending_department,
    TicketStatus.escalated,
)


class TicketType(StrEnum):
    inquiry = "inquiry"
    complaint = "complaint"
    request = "request"


class EventKind(StrEnum):
    created = "created"
    call = "call"
    voicemail = "voicemail"
    callback_scheduled = "callback_scheduled"
    callback_placed = "callback_placed"
    callback_result = "callback_result"
    callback = "callback"
    recording = "recording"
    note = "note"
    status_change = "status_change"
    field_change = "field_change"
    handoff = "handoff"
    escalation = "escalation"
    survey = "survey"
    wrap_up = "wrap_up"
    merged = "merged"
    linked = "linked"
    sla_warning = "sla_warning"
    sla_breach = "sla_breach"
    sla_extension = "sla_extension"


class TicketCounter(SQLModel, table=True):
    """Ticket numbers run per bank-local day: T20261128-0001, -0002, ..."""

    __tablename__ = "ticket_counter"

    day: str = Field(primary_key=True, max_length=8)
    last: int = 0


# --- the category tree -----------------------------------------------------------------------


class TicketCategoryBase(SQLModel):
    # Dotted codes: a child's code starts with its parent's, e.g. "cards" → "cards.lost_stolen".
    name_zh: str = Field(min_length=1, max_length=64)
    name_en: str = Field(min_length=1, max_length=64)
    # The routing skill whose agents see tickets of this category; children inherit it.
    skill: str | None = Field(default=None, max_length=32)
    active: bool = True


class TicketCategory(TicketCategoryBase, table=True):
    __tablename__ = "ticket_category"

    code: str = Field(primary_key=True, max_length=64)
    parent: str | None = Field(default=None, max_length=64, foreign_key="ticket_category.code")


class TicketCategoryCreate(TicketCategoryBase):
    code: str = Field(regex=r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$", max_length=64)


class TicketCategoryUpdate(SQLModel):
    name_zh: str | None = Field(default=None, min_length=1, max_length=64)
    name_en: str | None = Field(default=None, min_length=1, max_length=64)
    skill: str | None = Field(default=None, max_length=32)
    active: bool | None = None


class TicketCategoryPublic(TicketCategoryBase):
    code: str
    parent: str | None


# --- tickets ---------------------------------------------------------------------------------


class TicketBase(SQLModel):
    channel: Channel = Field(default=Channel.phone, sa_type=String(16))
    category: str = Field(max_length=64, index=True)
    ticket_type: TicketType = Field(default=TicketType.inquiry, sa_type=String(16))
    priority: int = Field(default=3, ge=1, le=4)
    severity: int = Field(default=3, ge=1, le=5)
    complaint: bool = False
    subject: str = Field(max_length=200)
    description: str = Field(default="", max_length=4000)


class Ticket(TicketBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(max_length=20, unique=True, index=True)
    customer_id: int | None = Field(default=None, foreign_key="customer.id", index=True)
    # For callers we do not know: repeat contacts are matched on the number they call from.
    contact_phone: str | None = Field(default=None, max_length=20, index=True)
    status: TicketStatus = Field(default=TicketStatus.new, sa_type=String(24), index=True)
    # No foreign key, as on the call log: the case outlives the agent's record.
    assignee_id: int | None = Field(default=None, index=True)
    department_id: int | None = Field(default=None, foreign_key="department.id", index=True)
    repeat_count: int = 0
    resolution_code: str | None = Field(default=None, max_length=32)
    resolution_summary: str | None = Field(default=None, max_length=2000)
    merged_into_id: int | None = Field(default=None, foreign_key="ticket.id")
    # The SLA clocks; the SLA work fills them in.
    first_response_due_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    resolution_due_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    breached: bool = Field(default=False, index=True)
    created_at: datetime = Field(sa_type=UTCDateTime, index=True)
    updated_at: datetime = Field(sa_type=UTCDateTime)
    last_contact_at: datetime = Field(sa_type=UTCDateTime)
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class TicketLink(SQLModel, table=True):
    """Two related tickets; kept once, the lower id first."""

    __tablename__ = "ticket_link"
    __table_args__ = (UniqueConstraint("ticket_id", "other_id"),)

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    other_id: int = Field(foreign_key="ticket.id", index=True)
    created_at: datetime = Field(sa_type=UTCDateTime)
    actor: str = Field(max_length=64)


class TicketEvent(SQLModel, table=True):
    """The ticket's timeline: appended to, never edited."""

    __tablename__ = "ticket_event"

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    at: datetime = Field(sa_type=UTCDateTime)
    kind: EventKind = Field(sa_type=String(32))
    actor: str = Field(default="system", max_length=64)
    internal: bool = True
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class TicketEventPublic(SQLModel):
    id: int
    at: datetime
    kind: EventKind = Field(sa_type=String(32))
    actor: str
    internal: bool
    data: dict[str, Any]


class TicketCreate(TicketBase):
    """A ticket an agent opens by hand (an e-mail, a branch visit, a web form)."""

    channel: Channel = Channel.web
    customer_id: int | None = Field(default=None, ge=1)
    contact_phone: str | None = Field(default=None, max_length=20)
    department_id: int | None = Field(default=None, ge=1)
    # Left out: the agent who opens it.
    assignee_id: int | None = Field(default=None, ge=1)


class TicketUpdate(BaseModel):
    """Every field optional: only those sent change, each change on the timeline."""

    priority: int | None = PydanticField(default=None, ge=1, le=4)
    severity: int | None = PydanticField(default=None, ge=1, le=5)
    category: str | None = PydanticField(default=None, min_length=1, max_length=64)
    ticket_type: TicketType | None = PydanticField(
        default=None, validation_alias=AliasChoices("type", "ticket_type")
    )
    assignee_id: int | None = PydanticField(
        default=None, ge=1, validation_alias=AliasChoices("assignee", "assignee_id")
    )
    department_id: int | None = PydanticField(
        default=None, ge=1, validation_alias=AliasChoices("department", "department_id")
    )
    subject: str | None = PydanticField(default=None, min_length=1, max_length=200)
    description: str | None = PydanticField(default=None, max_length=4000)


class NoteCreate(BaseModel):
    text: str = PydanticField(min_length=1, max_length=4000)
    internal: bool = True


class TransitionRequest(BaseModel):
    to: TicketStatus
    resolution_code: str | None = PydanticField(default=None, max_length=32)
    summary: str | None = PydanticField(default=None, max_length=2000)
    reason: str | None = PydanticField(default=None, max_length=1000)


class MergeRequest(BaseModel):
    into: str = PydanticField(pattern=r"^T\d{8}-\d{4,}$", max_length=20)


class LinkRequest(BaseModel):
    number: str = PydanticField(pattern=r"^T\d{8}-\d{4,}$", max_length=20)


class TicketPublic(TicketBase):
    id: int
    number: str
    customer_id: int | None
    status: TicketStatus
    assignee_id: int | None
    department_id: int | None
    repeat_count: int
    resolution_code: str | None
    resolution_summary: str | None
    first_response_due_at: datetime | None
    resolution_due_at: datetime | None
    breached: bool
    created_at: datetime
    updated_at: datetime
    last_contact_at: datetime
    resolved_at: datetime | None


class TicketDetail(TicketPublic):
    merged_into: str | None = None
    links: list[str] = []
    timeline: list[TicketEventPublic]
