"""Recordings Twilio made of calls and voicemails."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from hotline.db_types import UTCDateTime


class Recording(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    recording_sid: str = Field(max_length=64, unique=True, index=True)
    # The parent call leg; links the recording to its call log whichever arrives first.
    call_sid: str = Field(max_length=64, index=True)
    source: str | None = Field(default=None, max_length=32)
    status: str = Field(max_length=16)
    media_url: str | None = Field(default=None, max_length=500)
    duration_seconds: int | None = None
    channels: int | None = None
    error_code: str | None = Field(default=None, max_length=16)
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)
