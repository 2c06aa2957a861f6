"""Twilio's recording status callbacks."""

from __future__ import annotations

from functools import partial

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import Response

from hotline.jobs import enqueue_once, job_id
from hotline.twilio_webhook import EMPTY_TWIML, TwilioForm, TwiML, VoiceRoute, field
from recordings.jobs import store_recording_status

router = APIRouter(prefix="/twilio/recordings", tags=["twilio recordings"], route_class=VoiceRoute)

_FIELDS = (
    "CallSid", "RecordingSid", "RecordingUrl", "RecordingStatus", "RecordingDuration",
    "RecordingChannels", "RecordingSource", "RecordingStartTime", "ErrorCode",
)  # fmt: skip


@router.post("/status", response_class=TwiML)
async def recording_status(request: Request, form: TwilioForm) -> Response:
    params = {name: field(form, name, limit=500) for name in _FIELDS}
    if params["RecordingSid"] and params["CallSid"]:
        # One job per recording and status: repeats of the callback enqueue nothing new.
        status = params["RecordingStatus"] or "unknown"
        await anyio.to_thread.run_sync(
            partial(
                enqueue_once,
                request.app.state.services.redis,
                "recordings",
                store_recording_status,
                params,
                job_id=job_id("recording", params["RecordingSid"], status),
            )
        )
    return TwiML(EMPTY_TWIML)
