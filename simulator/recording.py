"""Recordings made by `<Record>` or `<Dial record=…>`, and their status callbacks."""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime
from functools import cache
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
    # Pauses (pauseBehavior=skip): the paused time is left out of the audio and the duration.
    paused_since: float | None = None
    paused_seconds: float = 0.0
    pause_count: int = 0
    deleted: bool = False
    _media: bytes | None = field(default=None, repr=False)

    def pause(self, now: float) -> None:
        if self.status == "in-progress":
            self.status, self.paused_since = "paused", now
            self.pause_count += 1

    def resume(self, now: float) -> None:
        if self.status == "paused" and self.paused_since is not None:
            self.paused_seconds += now - self.paused_since
            self.status, self.paused_since = "in-progress", None

    def delete(self) -> None:
        """Gone, audio and all: a long simulation would otherwise keep every call's WAV."""
        self.deleted, self._media = True, None

    @property
    def held_bytes(self) -> int:
        """Audio the emulator keeps for it (made on the first download)."""
        return len(self._media) if self._media is not None else 0

    def media(self) -> bytes:
        """The audio as Twilio serves it by default: WAV, 8 kHz, 16-bit, one tone per channel."""
        if self._media is None:
            self._media = wav_audio(self.duration, self.channels)
        return self._media


SAMPLE_RATE = 8000


@cache
def _one_second(channels: int) -> bytes:
    # Computed once per channel count: 16,000 sines per recording showed in a long run's profile.
    frames = []
    for n in range(SAMPLE_RATE):
        for channel in range(channels):
            pitch = 440 if channel == 0 else 660
            frames.append(int(8000 * math.sin(2 * math.pi * pitch * n / SAMPLE_RATE)))
    return struct.pack(f"<{len(frames)}h", *frames)


def wav_audio(seconds: int, channels: int) -> bytes:
    """`seconds` of a tone (440 Hz left, 660 Hz right), PCM WAV with a correct header."""
    data = _one_second(channels) * max(seconds, 0)
    block = 2 * channels
    header = struct.pack(
        "<4sI4s4sIHHIIHH4sI",
        b"RIFF",
        36 + len(data),
        b"WAVE",
        b"fmt ",
        16,
        1,
        channels,
        SAMPLE_RATE,
        SAMPLE_RATE * block,
        block,
        16,
        b"data",
        len(data),
    )
    return header + data


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
    recording.resume(call.clock.elapsed())
    recording.duration = round(
        call.clock.elapsed() - recording.started_at - recording.paused_seconds
    )
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
