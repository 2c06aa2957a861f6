"""What the demo gateway would have sent to Twilio, kept for people and tests to read."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from hotline.db_types import UTCDateTime


class OutboxMessage(SQLModel, table=True):
    __tablename__ = "twilio_outbox"

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(sa_type=UTCDateTime)
    # e.g. "calls.create", "calls.update", "messages.create", "queues.members.update"
    operation: str = Field(max_length=64, index=True)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
