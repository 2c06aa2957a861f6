"""Recording jobs: store what Twilio's callbacks said, fetch the audio, apply retention."""

from __future__ import annotations

import logging
from typing import Any

from rq import Retry
from sqlmodel import col

from hotline.chains import Chain
from hotline.db import session_scope
from hotline.jobs import enqueue_once, job_id, services
from recordings import retention, service
from recordings.download import fetch_and_store
from recordings.models import Recording
from recordings.storage import make_storage

log = logging.getLogger(__name__)

QUEUE = "recordings"
RETENTION_CHAIN = "recordings:retention:chain"
DAY_SECONDS = 24 * 3600


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, str) and value.isdigit() else None


def download_job_id(recording_sid: str) -> str:
    return job_id("recording-download", recording_sid)


def enqueue_download(recording_sid: str) -> bool:
    """One download job per recording, whoever asks and however often."""
    svc = services()
    delays = svc.settings.recordings_download_retry_seconds
    return enqueue_once(
        svc.redis,
        QUEUE,
        download_recording,
        recording_sid,
        job_id=download_job_id(recording_sid),
        retry=Retry(max=len(delays), interval=delays) if delays else None,
    )


def store_recording_status(params: dict[str, str]) -> str:
    svc = services()
    with session_scope(svc.engine) as session:
        recording = service.record_status(
            session=session,
            recording_sid=params["RecordingSid"],
            call_sid=params.get("CallSid", ""),
            status=params.get("RecordingStatus", "") or "unknown",
            source=params.get("RecordingSource") or None,
            media_url=params.get("RecordingUrl") or None,
            duration_seconds=_int(params.get("RecordingDuration")),
            channels=_int(params.get("RecordingChannels")),
            error_code=params.get("ErrorCode") or None,
            now=svc.clock.now(),
        )
        status, wanted = recording.status, recording.status == "completed"
        wanted = wanted and recording.stored_at is None and recording.media_url is not None
        sid = recording.recording_sid
    if wanted:  # after the commit: the job must find the row
        enqueue_download(sid)
    return status


def download_recording(recording_sid: str) -> str:
    """Fetch the audio into storage, checked; then, by setting, delete it from Twilio.
    Safe to repeat: a stored recording is not fetched again."""
    svc = services()
    with session_scope(svc.engine) as session:
        recording = service.get_by_sid(session=session, recording_sid=recording_sid)
    if recording is None or recording.deleted_at is not None:
        return "gone"
    if recording.stored_at is None:
        stored_values: dict[str, Any] = {}
        try:
            stored = fetch_and_store(
                recording=recording, gateway=svc.gateway, storage=make_storage(svc.settings)
            )
            now = svc.clock.now()
            stored_values.update(
                storage_key=stored.key, size_bytes=stored.size, sha256=stored.sha256,
                content_type=stored.content_type, stored_at=now, updated_at=now,
            )  # fmt: skip
            log.info("stored recording %s (%d bytes)", recording_sid, stored.size)
        finally:
            # The attempt counts even when it failed (the row shows how hard it was), in the
            # same write as the stored copy when it worked.
            with session_scope(svc.engine) as session:
                service.update_by_sid(
                    session=session,
                    recording_sid=recording_sid,
                    download_attempts=col(Recording.download_attempts) + 1,
                    **stored_values,
                )
    # Twilio's copy goes only once ours is on record.
    if svc.settings.recordings_delete_from_twilio and recording.deleted_from_twilio_at is None:
        svc.gateway.delete_recording(recording_sid=recording_sid)
        with session_scope(svc.engine) as session:
            service.update_by_sid(
                session=session, recording_sid=recording_sid, deleted_from_twilio_at=svc.clock.now()
            )
    return "stored"


def purge_expired_recordings() -> int:
    """Delete the audio whose retention has run out (legal holds excepted)."""
    svc = services()
    with session_scope(svc.engine) as session:
        return retention.purge_expired(
            session=session,
            storage=make_storage(svc.settings),
            policy=svc.settings.recordings_retention_days,
            now=svc.clock.now(),
        )


def retention_sweep(token: str = "") -> int:
    """The daily retention run; the next one a day later."""
    svc = services()
    try:
        return purge_expired_recordings()
    finally:
        RETENTION.next(svc.redis, token, svc.clock.now())


RETENTION = Chain(
    mark=RETENTION_CHAIN,
    queue=QUEUE,
    func=retention_sweep,
    every_seconds=DAY_SECONDS,
    # Outlives the day between runs; a dead chain is restarted within an hour of its due run.
    ttl_seconds=DAY_SECONDS + 3600,
)
