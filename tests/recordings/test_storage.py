"""Recording storage: a local directory and an S3-compatible bucket behind one interface."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import pytest

from recordings.s3 import EMPTY_SHA256, S3Storage, sigv4_headers
from recordings.storage import ChecksumMismatch, LocalStorage, RecordingStorage
from simulator.recording import wav_audio
from tests.recordings.fake_s3 import ACCESS_KEY, BUCKET, REGION, SECRET_KEY, fake_s3

KEY = "2026/11/RE0123.wav"


def audio_file(tmp_path: Path) -> tuple[Path, bytes, str]:
    audio = wav_audio(2, 2)
    path = tmp_path / "download"
    path.write_bytes(audio)
    return path, audio, hashlib.sha256(audio).hexdigest()


def round_trip(storage: RecordingStorage, tmp_path: Path) -> None:
    path, audio, digest = audio_file(tmp_path)
    storage.put(KEY, path, sha256=digest, size=len(audio))
    assert storage.size(KEY) == len(audio)
    assert b"".join(storage.read(KEY, 0, len(audio) - 1)) == audio
    assert b"".join(storage.read(KEY, 100, 149)) == audio[100:150]
    storage.delete(KEY)
    assert storage.size(KEY) is None
    storage.delete(KEY)  # gone already: no error


def test_local_storage_round_trip(tmp_path: Path) -> None:
    round_trip(LocalStorage(tmp_path / "store"), tmp_path)


def test_local_storage_refuses_a_checksum_mismatch_and_keeps_nothing(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "store")
    path, audio, _ = audio_file(tmp_path)
    with pytest.raises(ChecksumMismatch):
        storage.put(KEY, path, sha256=hashlib.sha256(b"other").hexdigest(), size=len(audio))
    assert storage.size(KEY) is None
    assert list((tmp_path / "store").rglob("*.partial")) == []


def test_local_storage_keeps_keys_inside_its_directory(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        LocalStorage(tmp_path / "store").size("../outside.wav")


def s3_storage(endpoint: str, secret: str = SECRET_KEY) -> S3Storage:
    return S3Storage(
        endpoint=endpoint, bucket=BUCKET, region=REGION, access_key=ACCESS_KEY, secret_key=secret
    )


def test_s3_storage_round_trip(tmp_path: Path) -> None:
    with fake_s3() as (endpoint, objects):
        round_trip(s3_storage(endpoint), tmp_path)
        assert objects == {}


def test_s3_refuses_an_upload_whose_checksum_does_not_match(tmp_path: Path) -> None:
    path, audio, _ = audio_file(tmp_path)
    with fake_s3() as (endpoint, objects):
        with pytest.raises(ChecksumMismatch):
            s3_storage(endpoint).put(
                KEY, path, sha256=hashlib.sha256(b"other").hexdigest(), size=len(audio)
            )
        assert objects == {}


def test_s3_with_a_wrong_secret_is_refused(tmp_path: Path) -> None:
    path, audio, digest = audio_file(tmp_path)
    with fake_s3() as (endpoint, objects):
        with pytest.raises(Exception, match="403"):
            s3_storage(endpoint, secret="wrong").put(KEY, path, sha256=digest, size=len(audio))
        assert objects == {}


def test_sigv4_matches_awss_published_example() -> None:
    # "GET Object" example of AWS's Signature Version 4 documentation for S3.
    headers = sigv4_headers(
        method="GET",
        url="https://examplebucket.s3.amazonaws.com/test.txt",
        region="us-east-1",
        access_key="AKIAIOSFODNN7EXAMPLE",
        secret_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        payload_sha256=EMPTY_SHA256,
        now=datetime(2013, 5, 24, tzinfo=UTC),
        extra={"Range": "bytes=0-9"},
    )
    assert headers["authorization"].endswith(
        "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
    )
    assert "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date," in headers["authorization"]
