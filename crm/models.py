"""Call logs and callbacks; customers and tickets live in crm/customer_models.py and
crm/ticket_models.py and are re-exported here, so `crm.models` names every CRM table."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel
from pydantic import Field as PydanticField
from sqlalchemy import JSON, Column, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from crm.customer_models import (
    E164,
    CallerProfile,
    Customer,
    CustomerBase,
    CustomerCreate,
    CustomerMerge,
    CustomerPhone,
    CustomerPublic,
    CustomerUpdate,
    Department,
    MaskedRef,
    Segment,
    check_masked_ref,
)
from crm.ticket_models import (
    ACTIVE_STATUSES,
    Channel,
    EventKind,
    LinkRequest,
    MergeRequest,
    NoteCreate,
    Ticket,
    TicketBase,
    TicketCategory,
    TicketCategoryCreate,
    TicketCategoryPublic,
    TicketCategoryUpdate,
    TicketCounter,
    TicketCreate,
    TicketDetail,
    TicketEvent,
    TicketEventPublic,
    TicketLink,
    TicketPublic,
    TicketStatus,
    TicketType,
    TicketUpdate,
    TransitionRequest,
)
from hotline.db_types import UTCDateTime

__all__ = [
    "ACTIVE_STATUSES",
    "E164",
    "CallDisposition",
    "CallLog",
    "CallLogPublic",
    "CallRecord",
    "Callback",
    "CallbackPublic",
    "CallerProfile",
    "Channel",
    "Customer",
    "CustomerBase",
    "CustomerCreate",
    "CustomerMerge",
    "CustomerOverview",
    "CustomerPhone",
    "CustomerPublic",
    "CustomerUpdate",
    "Department",
    "EventKind",
    "LinkRequest",
    "MaskedRef",
    "MergeRequest",
    "NoteCreate",
    "OverviewCall",
    "Segment",
    "Ticket",
    "TicketBase",
    "TicketCategory",
    "TicketCategoryCreate",
    "TicketCategoryPublic",
    "TicketCategoryUpdate",
    "TicketCounter",
    "TicketCreate",
    "TicketDetail",
    "TicketEvent",
    "TicketEventPublic",
    "TicketLink",
    "TicketPublic",
    "TicketStatus",
    "TicketType",
    "TicketUpdate",
    "TransitionRequest",
    "WrapUpRequest",
    "check_masked_ref",
]


class CallDisposition(StrEnum):
    completed_in_ivr = "completed_in_ivr"
    self_service = "self_service"
    queued = "queued"
    answered = "answered"
    abandoned = "abandoned"
    voicemail = "voicemail"
    after_hours = "after_hours"
    # The caller asked to be called back, keeping their place in the queue.
    virtual_hold = "virtual_hold"


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
    # The agent's wrap-up: a configured code and a note, once per call.
    wrapup_code: str | None = Field(default=None, max_length=32)
    wrapup_note: str | None = Field(default=None, max_length=2000)
    wrapped_up_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


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
    wrapup_code: str | None = None
    wrapup_note: str | None = None
    wrapped_up_at: datetime | None = None


class WrapUpRequest(BaseModel):
    code: str = PydanticField(min_length=1, max_length=32)
    note: str | None = PydanticField(default=None, max_length=2000)


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
    # The caller's own call where they chose a call back (virtual hold); on the call we
    # placed back to them, the same: both go onto that hold's ticket.
    virtual_hold: str | None = None


# --- callbacks -------------------------------------------------------------------------------


class Callback(SQLModel, table=True):
    """A call the bank owes a customer: after a voicemail or after hours, or a follow-up once a
    ticket is resolved. Placed by crm/callback_jobs.py; states in crm/callbacks.py."""

    __table_args__ = (UniqueConstraint("origin_call_sid", "reason"),)

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    customer_id: int | None = Field(default=None, foreign_key="customer.id")
    phone: str = Field(max_length=20)
    due_at: datetime = Field(sa_type=UTCDateTime, index=True)
    reason: str = Field(max_length=32)
    status: str = Field(default="scheduled", max_length=16, index=True)
    origin_call_sid: str | None = Field(default=None, max_length=64)
    # Indexed for the live figures' "callbacks placed" per period.
    created_at: datetime = Field(sa_type=UTCDateTime, index=True)
    # Calls placed so far; the claim of attempt n is a compare-and-set on this number.
    attempts: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    call_sid: str | None = Field(default=None, max_length=64)
    claimed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    placed_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    answered_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    outcome: str | None = Field(default=None, max_length=16)
    last_result: str | None = Field(default=None, max_length=32)


class CallbackPublic(SQLModel):
    id: int
    ticket_id: int
    phone: str
    due_at: datetime
    reason: str
    status: str
    created_at: datetime


class OverviewCall(CallLogPublic):
    ticket_number: str | None = None
    recording_ids: list[int] = []


class CustomerOverview(BaseModel):
    """Customer 360: everything an agent needs about one customer, in one answer."""

    customer: CustomerPublic
    tickets: list[TicketPublic]
    calls: list[OverviewCall]
    callbacks: list[CallbackPublic]
    # SurveyPublic, newest first (as plain JSON: crm/survey_models.py builds on this module).
    surveys: list[dict[str, Any]] = []
