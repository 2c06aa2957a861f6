"""Recordings Twilio made of calls and voicemails, who listened to them, and legal holds."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from hotline.db_types import UTCDateTime

# Statuses after which Twilio sends nothing more about a recording.
FINAL_STATUSES = frozenset({"completed", "absent", "failed"})


class RecordingBase(SQLModel):
    recording_sid: str = Field(max_length=64, unique=True, index=True)
    # The parent call leg; links the recording to its call log whichever arrives first.
    call_sid: str = Field(max_length=64, index=True)
    source: str | None = Field(default=None, max_length=32)
    status: str = Field(max_length=16)
    duration_seconds: int | None = None
    channels: int | None = None
    error_code: str | None = Field(default=None, max_length=16)
    # Where the audio is kept here, once downloaded and checked.
    content_type: str | None = Field(default=None, max_length=64)
    size_bytes: int | None = None
    sha256: str | None = Field(default=None, max_length=64)
    stored_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    deleted_from_twilio_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Retention: the audio is gone, the metadata stays with when and why.
    deleted_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    deleted_reason: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)


class Recording(RecordingBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    media_url: str | None = Field(default=None, max_length=500)
    storage_key: str | None = Field(default=None, max_length=200)
    download_attempts: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    # The timeline event that shows it; None until the call is on a ticket.
    ticket_event_id: int | None = None


class RecordingPublic(RecordingBase):
    id: int
    ticket_id: int | None = None
    agent_id: int | None = None


class RecordingPause(SQLModel, table=True):
    """A PCI pause or resume of a call's recording, kept until the call is on its ticket."""

    __tablename__ = "recording_pause"

    id: int | None = Field(default=None, primary_key=True)
    call_sid: str = Field(max_length=64, index=True)
    action: str = Field(max_length=16)  # paused / resumed
    actor: str = Field(max_length=64)
    at: datetime = Field(sa_type=UTCDateTime)
    ticket_event_id: int | None = None


class RecordingAccessBase(SQLModel):
    recording_id: int = Field(foreign_key="recording.id", index=True)
    actor: str = Field(max_length=64)
    at: datetime = Field(sa_type=UTCDateTime)
    client_address: str = Field(max_length=64)
    what: str = Field(max_length=16)  # audio / metadata
    byte_range: str | None = Field(default=None, max_length=64)
    status_code: int


class RecordingAccess(RecordingAccessBase, table=True):
    """Every look at a recording, allowed or not: the audit trail the bank must keep."""

    __tablename__ = "recording_access"

    id: int | None = Field(default=None, primary_key=True)


class RecordingAccessPublic(RecordingAccessBase):
    id: int


class LegalHoldBase(SQLModel):
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    set_by: str = Field(max_length=64)
    reason: str = Field(max_length=500)
    set_at: datetime = Field(sa_type=UTCDateTime)
    released_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    released_by: str | None = Field(default=None, max_length=64)


class LegalHold(LegalHoldBase, table=True):
    """While a hold is not released, the ticket's recordings outlive their retention."""

    __tablename__ = "legal_hold"

    id: int | None = Field(default=None, primary_key=True)


class LegalHoldCreate(SQLModel):
    reason: str = Field(min_length=1, max_length=500)


class LegalHoldPublic(LegalHoldBase):
    id: int
    ticket_number: str
