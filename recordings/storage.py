"""Where recordings' audio is kept: one small interface, a local directory or an S3 bucket."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from hotline.settings import Settings

CHUNK = 64 * 1024


class ChecksumMismatch(Exception):
    """What was stored is not what was downloaded: refused, nothing kept."""


class RecordingStorage(Protocol):
    def put(self, key: str, source: Path, *, sha256: str, size: int) -> None:
        """Store `source` under `key`; refuse (ChecksumMismatch) unless it arrives intact."""
        ...

    def size(self, key: str) -> int | None:
        """The stored object's size, None when there is none."""
        ...

    def read(self, key: str, start: int, end: int) -> Iterator[bytes]:
        """Bytes `start` to `end` inclusive, in chunks."""
        ...

    def delete(self, key: str) -> None:
        """Remove the object; one already gone is no error."""
        ...


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class LocalStorage:
    """A directory; objects are written aside, checked, then renamed into place."""

    def __init__(self, root: Path) -> None:
        self._root = root

    def _path(self, key: str) -> Path:
        path = (self._root / key).resolve()
        if self._root.resolve() not in path.parents:
            raise ValueError(f"storage key {key!r} leaves the storage directory")
        return path

    def put(self, key: str, source: Path, *, sha256: str, size: int) -> None:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".partial")
        with source.open("rb") as reader, partial.open("wb") as writer:
            while chunk := reader.read(CHUNK):
                writer.write(chunk)
            writer.flush()
            os.fsync(writer.fileno())
        # Read back what the disk holds: a short write or a bad copy is caught here, not when
        # a supervisor presses play a year later.
        if partial.stat().st_size != size or file_sha256(partial) != sha256:
            partial.unlink()
            raise ChecksumMismatch(f"{key}: the stored copy does not match the download")
        partial.replace(target)

    def size(self, key: str) -> int | None:
        path = self._path(key)
        return path.stat().st_size if path.is_file() else None

    def read(self, key: str, start: int, end: int) -> Iterator[bytes]:
        with self._path(key).open("rb") as reader:
            reader.seek(start)
            left = end - start + 1
            while left > 0 and (chunk := reader.read(min(CHUNK, left))):
                left -= len(chunk)
                yield chunk

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)


def make_storage(settings: Settings) -> RecordingStorage:
    if settings.recordings_s3_bucket:
        from recordings.s3 import S3Storage

        return S3Storage.from_settings(settings)
    return LocalStorage(settings.recordings_dir)
