"""Fetching a recording's audio from Twilio into storage, checked on the way."""

from __future__ import annotations

import hashlib
import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path

from hotline.twilio_gateway import TwilioGateway
from recordings.models import Recording
from recordings.storage import CHUNK, ChecksumMismatch, RecordingStorage

WAV_TYPES = frozenset({"audio/x-wav", "audio/wav", "audio/wave"})


@dataclass(frozen=True)
class StoredAudio:
    key: str
    size: int
    sha256: str
    content_type: str


def storage_key(recording: Recording) -> str:
    """`2026/11/RE….wav`: by month, so a retention sweep or a backup can work a folder at once."""
    return f"{recording.created_at:%Y/%m}/{recording.recording_sid}.wav"


def _check_wav(path: Path, size: int) -> None:
    """A WAV's header states its own length: a file cut short or garbled says otherwise."""
    with path.open("rb") as reader:
        header = reader.read(12)
    if len(header) < 12:
        raise ChecksumMismatch("the audio is shorter than a WAV header")
    riff, length, wave = struct.unpack("<4sI4s", header)
    if riff != b"RIFF" or wave != b"WAVE" or length + 8 != size:
        raise ChecksumMismatch(f"the WAV header does not match the {size} bytes received")


def fetch_and_store(
    *,
    recording: Recording,
    gateway: TwilioGateway,
    storage: RecordingStorage,
    work_dir: Path | None = None,
) -> StoredAudio:
    """Download the audio, check its length and header, store it, and verify the stored copy
    against the SHA-256 taken while downloading."""
    assert recording.media_url is not None
    with tempfile.TemporaryDirectory(dir=work_dir) as scratch:
        path = Path(scratch) / "audio"
        with path.open("wb") as writer:
            download = gateway.download_recording(media_url=recording.media_url, into=writer)
        size = path.stat().st_size
        if download.declared_length is not None and download.declared_length != size:
            raise ChecksumMismatch(f"received {size} bytes of {download.declared_length}")
        if download.content_type in WAV_TYPES:
            _check_wav(path, size)
        digest = hashlib.sha256()
        with path.open("rb") as reader:
            while chunk := reader.read(CHUNK):
                digest.update(chunk)
        key = storage_key(recording)
        storage.put(key, path, sha256=digest.hexdigest(), size=size)
        return StoredAudio(
            key=key, size=size, sha256=digest.hexdigest(), content_type=download.content_type
        )
