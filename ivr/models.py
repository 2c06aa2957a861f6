"""What the voice side keeps in the database: call events that could not reach Redis."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from hotline.db_types import UTCDateTime


class ParkedCallEvent(SQLModel, table=True):
    """A status callback that came while Redis was away. Twilio sends it once; this row keeps
    it until a worker replays it into the call's session (then the call is logged as usual)."""

    __tablename__ = "parked_call_event"
    __table_args__ = (UniqueConstraint("call_sid", "event_id"),)

    id: int | None = Field(default=None, primary_key=True)
    call_sid: str = Field(max_length=64)
    event_id: str = Field(max_length=40)
    terminal: bool
    # The session fields as the Redis script takes them: name, value, name, value...
    fields: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    received_at: datetime = Field(sa_type=UTCDateTime)
