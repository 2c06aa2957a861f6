"""SMS satisfaction surveys: one row per ticket and resolution, and the replies received."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import String, UniqueConstraint
from sqlmodel import Field, SQLModel

from hotline.db_types import UTCDateTime


class SurveyState(StrEnum):
    scheduled = "scheduled"  # waiting for its send time
    sending = "sending"  # claimed by a worker, Twilio not yet known to have it
    sent = "sent"  # Twilio accepted it; waiting for a reply
    failed = "failed"  # Twilio refused it, or the retries ran out
    cancelled = "cancelled"  # the ticket was reopened before it went
    skipped = "skipped"  # not to be sent (skip_reason says why)
    answered = "answered"  # a score came back
    expired = "expired"  # no usable reply within the window


# A survey in one of these states may still text the customer.
PENDING_STATES = (SurveyState.scheduled, SurveyState.sending)


class SkipReason(StrEnum):
    opted_out = "opted_out"
    no_mobile = "no_mobile"
    recent_survey = "recent_survey"
    no_customer = "no_customer"


class SurveyBase(SQLModel):
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    # The how-many-th resolution of the ticket this survey follows (1, 2, ...).
    round: int = Field(default=1, ge=1)
    customer_id: int | None = Field(default=None, foreign_key="customer.id", index=True)
    language: str = Field(default="zh", max_length=8)


class Survey(SurveyBase, table=True):
    __table_args__ = (UniqueConstraint("ticket_id", "round"),)

    # Deterministic: "S<ticket id>-<round>", so the job id and any retry name the same row.
    id: str = Field(primary_key=True, max_length=32)
    state: SurveyState = Field(default=SurveyState.scheduled, sa_type=String(16), index=True)
    skip_reason: str | None = Field(default=None, max_length=32)
    phone: str | None = Field(default=None, max_length=20, index=True)  # E.164, set when sent
    created_at: datetime = Field(sa_type=UTCDateTime)
    due_at: datetime = Field(sa_type=UTCDateTime, index=True)
    claimed_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    first_claimed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    attempts: int = 0
    # What went to Twilio, kept so a recovery can find the message Twilio may have accepted.
    body: str | None = Field(default=None, max_length=1000)
    message_sid: str | None = Field(default=None, max_length=64, unique=True)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    delivery_status: str | None = Field(default=None, max_length=16)
    error_code: int | None = None
    last_error: str | None = Field(default=None, max_length=200)
    unclear_replies: int = 0
    score: int | None = Field(default=None, ge=1, le=5)
    answered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class SurveyPublic(SurveyBase):
    id: str
    state: SurveyState
    skip_reason: str | None
    due_at: datetime
    sent_at: datetime | None
    delivery_status: str | None
    error_code: int | None
    score: int | None
    answered_at: datetime | None


class SurveyReply(SQLModel, table=True):
    """Every text received, keyed by Twilio's MessageSid: a repeated webhook answers the same."""

    __tablename__ = "survey_reply"

    message_sid: str = Field(primary_key=True, max_length=64)
    from_number: str = Field(max_length=20)
    survey_id: str | None = Field(default=None, foreign_key="survey.id", index=True, max_length=32)
    received_at: datetime = Field(sa_type=UTCDateTime)
    outcome: str = Field(max_length=16)
    score: int | None = None
    # The reply we texted back (the TwiML <Message>), repeated verbatim on a retry.
    answer: str = Field(default="", max_length=1000)
