"""Retention: audio older than its ticket type allows is deleted, unless a legal hold stops it.
The row stays (who, when, how long, checksum) with when and why the audio went."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from crm.models import CallLog, Ticket
from recordings.models import LegalHold, Recording
from recordings.storage import RecordingStorage

log = logging.getLogger(__name__)

DEFAULT_TYPE = "default"


def retention_days(policy: dict[str, int], ticket_type: str | None) -> int:
    return policy.get(ticket_type or DEFAULT_TYPE, policy[DEFAULT_TYPE])


def held_ticket_ids(*, session: Session) -> set[int]:
    return set(
        session.exec(select(LegalHold.ticket_id).where(col(LegalHold.released_at).is_(None)))
    )


def purge_expired(
    *,
    session: Session,
    storage: RecordingStorage,
    policy: dict[str, int],
    now: datetime,
    limit: int = 1000,
) -> int:
    """Delete expired audio (oldest first, up to `limit`); how many were deleted."""
    oldest_allowed = now - timedelta(days=min(policy.values()))
    rows = session.exec(
        select(Recording, Ticket.ticket_type, Ticket.id)
        .join(CallLog, col(CallLog.call_sid) == col(Recording.call_sid), isouter=True)
        .join(Ticket, col(Ticket.id) == col(CallLog.ticket_id), isouter=True)
        .where(col(Recording.storage_key).is_not(None), col(Recording.deleted_at).is_(None))
        .where(col(Recording.created_at) < oldest_allowed)
        .order_by(col(Recording.created_at))
        .limit(limit)
    ).all()
    held = held_ticket_ids(session=session)
    deleted = 0
    for recording, ticket_type, ticket_id in rows:
        days = retention_days(policy, str(ticket_type) if ticket_type else None)
        if recording.created_at > now - timedelta(days=days):
            continue
        if ticket_id is not None and ticket_id in held:
            continue
        assert recording.storage_key is not None
        storage.delete(recording.storage_key)
        recording.deleted_at = now
        recording.deleted_reason = f"retention: {ticket_type or DEFAULT_TYPE}, {days} days"
        recording.updated_at = now
        session.add(recording)
        deleted += 1
        log.info("deleted recording %s (%s)", recording.recording_sid, recording.deleted_reason)
    session.flush()
    return deleted
