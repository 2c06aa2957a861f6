"""Recordings made by `<Record>` or `<Dial record=…>`, and their status callbacks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from typing import TYPE_CHECKING

from simulator.signing import new_sid
from simulator.webhook import post_callback

if TYPE_CHECKING:
    from simulator.call import Call


@dataclass
class Recording:
    sid: str
    call_sid: str
    account_sid: str
    url: str
    source: str
    channels: int
    start_time: datetime
    started_at: float
    status: str = "in-progress"
    duration: int = 0


@dataclass(frozen=True)
class RecordingCallback:
    url: str | None
    method: str = "POST"
    events: frozenset[str] = frozenset({"completed"})


def start_recording(
    call: Call, *, source: str, channels: int, callback: RecordingCallback
) -> Recording:
    sid = new_sid("RE")
    exchange = call.exchange
    recording = Recording(
        sid=sid,
        call_sid=call.sid,
        account_sid=exchange.account_sid,
        url=f"{exchange.recording_base}/2010-04-01/Accounts/{exchange.account_sid}/Recordings/{sid}",
        source=source,
        channels=channels,
        start_time=call.clock.now(),
        started_at=call.clock.elapsed(),
    )
    exchange.recordings[sid] = recording
    call.note("recording-started", recording_sid=sid, source=source)
    if "in-progress" in callback.events:
        _send(call, recording, callback)
    return recording


def complete_recording(call: Call, recording: Recording, callback: RecordingCallback) -> None:
    if recording.status == "completed":
        return
    recording.duration = round(call.clock.elapsed() - recording.started_at)
    recording.status = "completed"
    if "completed" in callback.events:
        _send(call, recording, callback)


def _send(call: Call, recording: Recording, callback: RecordingCallback) -> None:
    if callback.url is None:
        return
    params = {
        "AccountSid": recording.account_sid,
        "CallSid": recording.call_sid,
        "RecordingSid": recording.sid,
        "RecordingUrl": recording.url,
        "RecordingStatus": recording.status,
        "RecordingChannels": str(recording.channels),
        "RecordingSource": recording.source,
        "RecordingStartTime": format_datetime(recording.start_time),
    }
    if recording.status == "completed":
        params["RecordingDuration"] = str(recording.duration)
    call.spawn(
        post_callback(
            call.exchange.endpoint,
            call.clock,
            call.record.events,
            url=callback.url,
            method=callback.method,
            params=params,
            purpose="recording-status-callback",
        )
    )


def callback_from(
    call: Call, url: str | None, method: str | None, events: str | None, base: str
) -> RecordingCallback:
    """The recording callback configured by a verb's attributes."""
    resolved = call.exchange.endpoint.resolve(url, base) if url else None
    chosen = frozenset((events or "completed").replace(",", " ").split())
    return RecordingCallback(resolved, (method or "POST").upper(), chosen)
