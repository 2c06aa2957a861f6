"""Recordings: kept by RecordingSid, linked to their call by CallSid in whichever order."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from crm import service as crm
from recordings.models import Recording

VOICEMAIL_SOURCE = "RecordVerb"


def has_voicemail(*, session: Session, call_sid: str) -> bool:
    return (
        session.exec(
            select(Recording.id).where(
                Recording.call_sid == call_sid,
                Recording.status == "completed",
                Recording.source == VOICEMAIL_SOURCE,
            )
        ).first()
        is not None
    )


def record_status(
    *,
    session: Session,
    recording_sid: str,
    call_sid: str,
    status: str,
    source: str | None,
    media_url: str | None,
    duration_seconds: int | None,
    channels: int | None,
    error_code: str | None,
    now: datetime,
) -> Recording:
    """Upsert a recording from a status callback; repeats and late arrivals change nothing."""
    recording = session.exec(
        select(Recording).where(Recording.recording_sid == recording_sid)
    ).first()
    was_completed = recording is not None and recording.status == "completed"
    if recording is None:
        recording = Recording(
            recording_sid=recording_sid,
            call_sid=call_sid,
            status=status,
            created_at=now,
            updated_at=now,
        )
    elif was_completed:
        return recording  # a repeat, or a late "in-progress", changes nothing
    recording.status = status
    recording.source = source or recording.source
    recording.media_url = media_url or recording.media_url
    recording.duration_seconds = (
        duration_seconds if duration_seconds is not None else recording.duration_seconds
    )
    recording.channels = channels or recording.channels
    recording.error_code = error_code or recording.error_code
    recording.updated_at = now
    session.add(recording)
    session.flush()
    if status == "completed" and source == VOICEMAIL_SOURCE:
        assert recording.id is not None
        crm.attach_voicemail(session=session, call_sid=call_sid, recording_id=recording.id, now=now)
    return recording
