"""Recordings: kept by RecordingSid, linked to their call by CallSid in whichever order.

A recording (and a PCI pause) reaches the ticket's timeline as soon as both it and the call's
log exist: from the recording callback if the call is logged already, else from the call logger.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select, update

from crm import service as crm
from crm.models import CallLog, EventKind
from hotline import audit
from hotline.auth import Principal
from recordings.models import (
    FINAL_STATUSES,
    Recording,
    RecordingAccess,
    RecordingPause,
    RecordingPublic,
)

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


def get(*, session: Session, recording_id: int) -> Recording | None:
    return session.get(Recording, recording_id)


def get_by_sid(*, session: Session, recording_sid: str) -> Recording | None:
    return session.exec(select(Recording).where(Recording.recording_sid == recording_sid)).first()


def update_by_sid(*, session: Session, recording_sid: str, **values: Any) -> None:
    """Set columns of a recording known to exist, in one statement: no load first."""
    updated = session.execute(
        update(Recording)
        .where(col(Recording.recording_sid) == recording_sid)
        .values(**values)
        .returning(col(Recording.id))
    ).first()
    assert updated is not None, f"recording {recording_sid} is not on record"


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
    recording = get_by_sid(session=session, recording_sid=recording_sid)
    was_final = recording is not None and recording.status in FINAL_STATUSES
    if recording is None:
        recording = Recording(
            recording_sid=recording_sid,
            call_sid=call_sid,
            status=status,
            created_at=now,
            updated_at=now,
        )
    elif was_final:
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
    if status in FINAL_STATUSES:
        link_call(session=session, call_sid=call_sid)
    return recording


def _event_data(recording: Recording) -> dict[str, Any]:
    return {
        "recording_id": recording.id,
        "recording_sid": recording.recording_sid,
        "call_sid": recording.call_sid,
        "status": recording.status,
        "source": recording.source,
        "duration_seconds": recording.duration_seconds,
        "channels": recording.channels,
        "error_code": recording.error_code,
    }


def link_call(*, session: Session, call_sid: str, call: CallLog | None = None) -> int:
    """Put the call's final recordings and its pauses on its ticket's timeline, each once.
    `call` is the call's log when the caller holds it already (saves reading it again)."""
    if call is None:
        call = crm.get_call_log(session=session, call_sid=call_sid)
    if call is None or call.ticket_id is None:
        return 0  # not logged yet: the call logger links them when it is
    linked = 0
    recordings = session.exec(
        select(Recording).where(
            Recording.call_sid == call_sid,
            col(Recording.ticket_event_id).is_(None),
            col(Recording.status).in_(sorted(FINAL_STATUSES)),
        )
    ).all()
    for recording in recordings:
        event = crm.add_timeline_event(
            session=session,
            ticket_id=call.ticket_id,
            kind=EventKind.recording,
            at=recording.updated_at,
            data=_event_data(recording),
        )
        recording.ticket_event_id = event.id
        session.add(recording)
        linked += 1
    pauses = session.exec(
        select(RecordingPause)
        .where(RecordingPause.call_sid == call_sid, col(RecordingPause.ticket_event_id).is_(None))
        .order_by(col(RecordingPause.at), col(RecordingPause.id))
    ).all()
    for pause in pauses:
        event = crm.add_timeline_event(
            session=session,
            ticket_id=call.ticket_id,
            kind=EventKind.recording,
            at=pause.at,
            actor=pause.actor,
            data={"call_sid": call_sid, "action": pause.action},
        )
        pause.ticket_event_id = event.id
        session.add(pause)
        linked += 1
    session.flush()
    return linked


def call_of(*, session: Session, recording: Recording) -> CallLog | None:
    return crm.get_call_log(session=session, call_sid=recording.call_sid)


def public(*, session: Session, recording: Recording) -> RecordingPublic:
    call = call_of(session=session, recording=recording)
    return RecordingPublic.model_validate(
        recording,
        update={
            "ticket_id": call.ticket_id if call else None,
            "agent_id": call.agent_id if call else None,
        },
    )


def may_listen(*, session: Session, recording: Recording, principal: Principal) -> bool:
    """Supervisors and admins, and the agent who took the call."""
    if principal.is_supervisor:
        return True
    call = call_of(session=session, recording=recording)
    return call is not None and call.agent_id is not None and call.agent_id == principal.agent_id


def record_access(
    *,
    session: Session,
    recording_id: int,
    actor: str,
    client_address: str,
    what: str,
    byte_range: str | None,
    status_code: int,
    now: datetime,
) -> RecordingAccess:
    access = RecordingAccess(
        recording_id=recording_id,
        actor=actor,
        at=now,
        client_address=client_address[:64],
        what=what,
        byte_range=byte_range[:64] if byte_range else None,
        status_code=status_code,
    )
    session.add(access)
    # Also in the bank's one audit log, beside the other reads of customers' data.
    audit.record(
        session=session,
        at=now,
        actor=actor,
        address=client_address,
        action=f"recording.{what}",
        object_type="recording",
        object_id=recording_id,
        detail={"range": byte_range, "status": status_code},
    )
    session.flush()
    return access


def accesses(*, session: Session, recording_id: int) -> list[RecordingAccess]:
    return list(
        session.exec(
            select(RecordingAccess)
            .where(RecordingAccess.recording_id == recording_id)
            .order_by(col(RecordingAccess.at), col(RecordingAccess.id))
        )
    )


# --- PCI pause / resume ----------------------------------------------------------------------


def recording_paused(*, session: Session, call_sid: str) -> bool:
    """Whether the last pause/resume on this call was a pause."""
    last = session.exec(
        select(RecordingPause.action)
        .where(RecordingPause.call_sid == call_sid)
        .order_by(col(RecordingPause.id).desc())
        .limit(1)
    ).first()
    return last == "paused"


def note_pause(
    *, session: Session, call_sid: str, action: str, actor: str, now: datetime
) -> RecordingPause:
    """Keep a pause or resume that Twilio carried out; onto the timeline when the call is."""
    pause = RecordingPause(call_sid=call_sid, action=action, actor=actor, at=now)
    session.add(pause)
    session.flush()
    link_call(session=session, call_sid=call_sid)
    return pause
