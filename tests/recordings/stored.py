"""A call on a ticket with its recording already stored: for playback and retention tests."""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine

from crm.models import CallDisposition, CallLog, Ticket, TicketType
from hotline.db import session_scope
from hotline.settings import Settings
from recordings.download import storage_key
from recordings.models import Recording
from recordings.storage import LocalStorage
from simulator.recording import wav_audio


def stored_recording(
    engine: Engine,
    settings: Settings,
    *,
    at: datetime,
    agent_id: int | None,
    ticket_type: TicketType = TicketType.inquiry,
    number: str = "T20261124-0001",
    seconds: int = 3,
) -> tuple[Recording, bytes]:
    sid = hashlib.sha256(number.encode()).hexdigest()[:32]
    audio = wav_audio(seconds, 2)
    with session_scope(engine) as session:
        ticket = Ticket(
            number=number,
            category="cards",
            ticket_type=ticket_type,
            complaint=ticket_type == TicketType.complaint,
            subject="Lost card",
            created_at=at,
            updated_at=at,
            last_contact_at=at,
        )
        session.add(ticket)
        session.flush()
        session.add(
            CallLog(
                call_sid="CA" + sid,
                ticket_id=ticket.id,
                agent_id=agent_id,
                started_at=at,
                disposition=CallDisposition.answered,
            )
        )
        recording = Recording(
            recording_sid="RE" + sid,
            call_sid="CA" + sid,
            source="DialVerb",
            status="completed",
            channels=2,
            duration_seconds=seconds,
            created_at=at,
            updated_at=at,
        )
        key = storage_key(recording)
        path = Path(settings.recordings_dir) / "upload.wav"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(audio)
        digest = hashlib.sha256(audio).hexdigest()
        LocalStorage(settings.recordings_dir).put(key, path, sha256=digest, size=len(audio))
        path.unlink()
        recording.storage_key, recording.size_bytes, recording.sha256 = key, len(audio), digest
        recording.content_type, recording.stored_at = "audio/x-wav", at
        session.add(recording)
    return recording, audio
