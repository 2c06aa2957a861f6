"""Twilio's REST API for recordings: update (pause/resume, `Twilio.CURRENT`), media, delete.

Media failures can be planned (`Exchange.media_faults`) so the app's retries can be tested:
each planned fault answers one media request, in order.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from email.utils import format_datetime
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from simulator.exchange import Exchange, ExchangeError
from simulator.recording import Recording

RECORDING_STATUSES = frozenset({"paused", "in-progress", "stopped"})
CURRENT = "Twilio.CURRENT"
# A planned fault that serves the audio with a broken header at the full announced length.
CORRUPT = "corrupt"

Endpoint = Callable[[Request, FormData], Awaitable[Response]]


def recording_json(recording: Recording) -> dict[str, Any]:
    return {
        "sid": recording.sid,
        "account_sid": recording.account_sid,
        "call_sid": recording.call_sid,
        "status": recording.status,
        "channels": recording.channels,
        "source": recording.source,
        "duration": str(recording.duration) if recording.status == "completed" else "-1",
        "start_time": format_datetime(recording.start_time),
        "date_created": format_datetime(recording.start_time),
        "date_updated": format_datetime(recording.start_time),
        "api_version": "2010-04-01",
        "uri": recording.url.split("api.twilio.com", 1)[-1] + ".json",
    }


def current_recording(exchange: Exchange, call_sid: str) -> Recording | None:
    """The call's recording that is running (or paused) now, the latest if several."""
    live = [
        recording
        for recording in exchange.recordings.values()
        if recording.call_sid == call_sid and recording.status in ("in-progress", "paused")
    ]
    return live[-1] if live else None


def update_recording(exchange: Exchange, recording: Recording, status: str | None) -> None:
    if status not in RECORDING_STATUSES:
        raise ExchangeError(21220, f"invalid recording Status {status!r}")
    if recording.status in ("completed", "absent", "failed"):
        return
    call = exchange.calls.get(recording.call_sid)
    now = call.clock.elapsed() if call is not None else 0.0
    if status == "paused":
        recording.pause(now)
    elif status == "in-progress":
        recording.resume(now)
    else:
        recording.resume(now)
        recording.status = "completed"
    if call is not None:
        call.note("recording-" + status, recording_sid=recording.sid)


def _not_found(what: str) -> ExchangeError:
    return ExchangeError(20404, f"The requested resource {what} was not found", 404)


def make_endpoints(exchange: Exchange) -> dict[str, Endpoint]:
    def field(form: FormData, name: str) -> str | None:
        value = form.get(name)
        return str(value) if value is not None else None

    async def call_recording(request: Request, form: FormData) -> Response:
        call_sid, sid = request.path_params["call_sid"], request.path_params["recording_sid"]
        recording = (
            current_recording(exchange, call_sid)
            if sid == CURRENT
            else exchange.recordings.get(sid)
        )
        if recording is None or recording.call_sid != call_sid or recording.deleted:
            raise _not_found(sid)
        if request.method == "POST":
            update_recording(exchange, recording, field(form, "Status"))
        return JSONResponse(recording_json(recording))

    async def recording_resource(request: Request, form: FormData) -> Response:
        sid = request.path_params["recording_sid"]
        recording = exchange.recordings.get(sid)
        if recording is None or recording.deleted:
            raise _not_found(sid)
        if request.method == "DELETE":
            recording.delete()
            return Response(status_code=204)
        return JSONResponse(recording_json(recording))

    async def media(request: Request, form: FormData) -> Response:
        sid = request.path_params["recording_sid"]
        recording = exchange.recordings.get(sid)
        if recording is None or recording.deleted or recording.status != "completed":
            raise _not_found(sid)
        exchange.media_requests += 1
        if exchange.media_faults:
            fault = exchange.media_faults.pop(0)
            if fault == CORRUPT:
                body = recording.media()
                return Response(b"RIFX" + body[4:], media_type="audio/x-wav")
            return JSONResponse({"code": 20500, "message": "Internal error"}, int(fault))
        return Response(recording.media(), media_type="audio/x-wav")

    return {"call_recording": call_recording, "recording": recording_resource, "media": media}
