"""Recording jobs: store what Twilio's recording status callbacks told us."""

from __future__ import annotations

from typing import Any

from hotline.db import session_scope
from hotline.jobs import services
from recordings import service


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, str) and value.isdigit() else None


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
        return recording.status
