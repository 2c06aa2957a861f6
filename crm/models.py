"""Customers, tickets with their timeline, call logs and callbacks."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel
from sqlalchemy import JSON, Column, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from hotline.db_types import UTCDateTime


# Enums are stored as plain strings: a new value needs no ALTER TYPE on PostgreSQL.
class Segment(StrEnum):
    standard = "standard"
    vip = "vip"


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


class CallDisposition(StrEnum):
    completed_in_ivr = "completed_in_ivr"
    self_service = "self_service"
    queued = "queued"
    answered = "answered"
    abandoned = "abandoned"
    voicemail = "voicemail"
    after_hours = "after_hours"


class EventKind(StrEnum):
    created = "created"
    call = "call"
    voicemail = "voicemail"
    callback_scheduled = "callback_scheduled"
    note = "note"
    status_change = "status_change"
    recording = "recording"


# --- customers -------------------------------------------------------------------------------


class CustomerBase(SQLModel):
    name: str = Field(max_length=120)
    segment: Segment = Field(default=Segment.standard, sa_type=String(16))
    preferred_language: str = Field(default="zh", max_length=8)
    consent_sms: bool = True
    consent_calls: bool = True
    # First 6 and last 4 at most, never a full card or account number.
    account_ref_masked: str | None = Field(default=None, max_length=32)


class Customer(CustomerBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(sa_type=UTCDateTime)


class CustomerPhone(SQLModel, table=True):
    __tablename__ = "customer_phone"

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    number: str = Field(max_length=20, unique=True, index=True)  # E.164
    kind: str = Field(default="mobile", max_length=16)


class CallerProfile(BaseModel):
    """What the IVR may know about a caller: enough to route, nothing to read out."""

    customer_id: int
    segment: Segment
    preferred_language: str
    # Who last handled the caller's open case: offered the call first if free.
    last_agent_id: int | None = None


class Department(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True)
    name_zh: str = Field(max_length=64)
    name_en: str = Field(max_length=64)


# --- tickets ---------------------------------------------------------------------------------


class TicketCounter(SQLModel, table=True):
    """Ticket numbers run per bank-local day: T20261128-0001, -0002, ..."""

    __tablename__ = "ticket_counter"

    day: str = Field(primary_key=True, max_length=8)
    last: int = 0


class TicketBase(SQLModel):
    channel: Channel = Field(default=Channel.phone, sa_type=String(16))
    category: str = Field(max_length=64, index=True)
    ticket_type: TicketType = Field(default=TicketType.inquiry, sa_type=String(16))
    priority: int = Field(default=3, ge=1, le=4)
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
    repeat_count: int = 0
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)
    last_contact_at: datetime = Field(sa_type=UTCDateTime)


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


class TicketPublic(TicketBase):
    id: int
    number: str
    customer_id: int | None
    status: TicketStatus
    repeat_count: int
    created_at: datetime
    updated_at: datetime
    last_contact_at: datetime


class TicketDetail(TicketPublic):
    timeline: list[TicketEventPublic]


# --- calls -----------------------------------------------------------------------------------


class CallLog(SQLModel, table=True):
    __tablename__ = "call_log"

    id: int | None = Field(default=None, primary_key=True)
    call_sid: str = Field(max_length=64, unique=True, index=True)
    direction: str = Field(default="inbound", max_length=16)
    from_number: str | None = Field(default=None, max_length=20, index=True)
    to_number: str | None = Field(default=None, max_length=20)
    customer_id: int | None = Field(default=None, foreign_key="customer.id", index=True)
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id", index=True)
    # The agent who took the call, if one did. No foreign key on purpose: a call is logged
    # whatever becomes of the agent's record.
    agent_id: int | None = Field(default=None, index=True)
    language: str = Field(default="zh", max_length=8)
    ivr_path: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    route: str | None = Field(default=None, max_length=64)
    skill: str | None = Field(default=None, max_length=32)
    priority: int | None = None
    category: str | None = Field(default=None, max_length=64)
    after_hours: bool = False
    started_at: datetime = Field(sa_type=UTCDateTime)
    queue_entered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    answered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    duration_seconds: int | None = None
    disposition: CallDisposition = Field(sa_type=String(24))
    twilio_status: str | None = Field(default=None, max_length=16)
    queue_result: str | None = Field(default=None, max_length=32)


class CallLogPublic(SQLModel):
    call_sid: str
    direction: str
    from_number: str | None
    customer_id: int | None
    ticket_id: int | None
    agent_id: int | None
    language: str
    ivr_path: list[dict[str, Any]]
    route: str | None
    skill: str | None
    priority: int | None
    category: str | None
    after_hours: bool
    started_at: datetime
    queue_entered_at: datetime | None
    answered_at: datetime | None
    ended_at: datetime | None
    duration_seconds: int | None
    disposition: CallDisposition


class CallRecord(BaseModel):
    """A finished call as the voice side saw it; what `log_call` turns into rows."""

    call_sid: str
    from_number: str | None
    to_number: str | None
    customer_id: int | None
    language: str
    ivr_path: list[dict[str, Any]]
    route: str | None = None
    skill: str | None = None
    priority: int | None = None
    category: str
    subject: str
    complaint: bool = False
    after_hours: bool = False
    self_service: bool = False
    voicemail_recording_sid: str | None = None
    started_at: datetime
    queue_entered_at: datetime | None = None
    answered_at: datetime | None = None
    agent_id: int | None = None
    ended_at: datetime
    duration_seconds: int | None = None
    twilio_status: str | None = None
    queue_result: str | None = None


# --- callbacks -------------------------------------------------------------------------------


class Callback(SQLModel, table=True):
    """A call the bank owes a customer; placed by the callbacks issue's jobs."""

    __table_args__ = (UniqueConstraint("origin_call_sid", "reason"),)

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    customer_id: int | None = Field(default=None, foreign_key="customer.id")
    phone: str = Field(max_length=20)
    due_at: datetime = Field(sa_type=UTCDateTime, index=True)
    reason: str = Field(max_length=32)
    status: str = Field(default="due", max_length=16, index=True)
    origin_call_sid: str | None = Field(default=None, max_length=64)
    # Indexed for the live figures' "callbacks placed" per period.
    created_at: datetime = Field(sa_type=UTCDateTime, index=True)
