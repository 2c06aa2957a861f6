"""Recordings in an S3-compatible bucket: plain httpx with AWS Signature Version 4.

The payload's SHA-256 is signed (`x-amz-content-sha256`) and sent as the object's checksum
(`x-amz-checksum-sha256`): the bucket refuses an upload whose bytes do not match it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote, urlsplit

import httpx

from hotline.settings import Settings
from recordings.storage import CHUNK, ChecksumMismatch

EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def sigv4_headers(
    *,
    method: str,
    url: str,
    region: str,
    access_key: str,
    secret_key: str,
    payload_sha256: str,
    now: datetime,
    extra: dict[str, str] | None = None,
) -> dict[str, str]:
    """The headers that sign one request for service `s3` (Authorization included)."""
    parts = urlsplit(url)
    stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    day = stamp[:8]
    headers = {
        "host": parts.netloc,
        "x-amz-content-sha256": payload_sha256,
        "x-amz-date": stamp,
        **{name.lower(): value for name, value in (extra or {}).items()},
    }
    names = sorted(headers)
    canonical = "\n".join(
        [
            method,
            quote(parts.path or "/", safe="/-_.~"),
            parts.query,
            "".join(f"{name}:{headers[name].strip()}\n" for name in names),
            ";".join(names),
            payload_sha256,
        ]
    )
    scope = f"{day}/{region}/s3/aws4_request"
    to_sign = "\n".join(
        ["AWS4-HMAC-SHA256", stamp, scope, hashlib.sha256(canonical.encode()).hexdigest()]
    )
    key = _hmac(
        _hmac(_hmac(_hmac(f"AWS4{secret_key}".encode(), day), region), "s3"), "aws4_request"
    )
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    headers["authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={access_key}/{scope}, "
        f"SignedHeaders={';'.join(names)}, Signature={signature}"
    )
    del headers["host"]  # httpx sends it
    return headers


class S3Error(Exception):
    """The bucket answered with an error."""


class S3Storage:
    """Objects at `{endpoint}/{bucket}/{key}` (path style: works with MinIO, Ceph, R2, AWS)."""

    def __init__(
        self,
        *,
        endpoint: str,
        bucket: str,
        region: str,
        access_key: str,
        secret_key: str,
        timeout: float = 30.0,
    ) -> None:
        self._base = f"{endpoint.rstrip('/')}/{bucket}"
        self._region = region
        self._access_key = access_key
        self._secret_key = secret_key
        self._timeout = timeout

    @classmethod
    def from_settings(cls, settings: Settings) -> S3Storage:
        if not settings.recordings_s3_access_key or not settings.recordings_s3_secret_key:
            raise ValueError("HOTLINE_RECORDINGS_S3_ACCESS_KEY and _SECRET_KEY are required")
        return cls(
            endpoint=settings.recordings_s3_endpoint,
            bucket=settings.recordings_s3_bucket or "",
            region=settings.recordings_s3_region,
            access_key=settings.recordings_s3_access_key,
            secret_key=settings.recordings_s3_secret_key,
        )

    def _url(self, key: str) -> str:
        return f"{self._base}/{quote(key, safe='/-_.~')}"

    def _headers(
        self, method: str, url: str, payload_sha256: str, extra: dict[str, str] | None = None
    ) -> dict[str, str]:
        return sigv4_headers(
            method=method,
            url=url,
            region=self._region,
            access_key=self._access_key,
            secret_key=self._secret_key,
            payload_sha256=payload_sha256,
            now=datetime.now(UTC),
            extra=extra,
        )

    def put(self, key: str, source: Path, *, sha256: str, size: int) -> None:
        url = self._url(key)
        checksum = base64.b64encode(bytes.fromhex(sha256)).decode()
        headers = self._headers(
            "PUT", url, sha256, {"x-amz-checksum-sha256": checksum, "content-type": "audio/x-wav"}
        )
        headers["content-length"] = str(size)

        def body() -> Iterator[bytes]:
            with source.open("rb") as reader:
                while chunk := reader.read(CHUNK):
                    yield chunk

        response = httpx.put(url, content=body(), headers=headers, timeout=self._timeout)
        if response.status_code == 400 and (
            "BadDigest" in response.text or "XAmzContentSHA256Mismatch" in response.text
        ):
            raise ChecksumMismatch(f"{key}: the bucket refused the checksum")
        if response.status_code != 200:
            raise S3Error(f"PUT {key}: HTTP {response.status_code} {response.text[:200]}")

    def size(self, key: str) -> int | None:
        url = self._url(key)
        response = httpx.head(url, headers=self._headers("HEAD", url, EMPTY_SHA256))
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise S3Error(f"HEAD {key}: HTTP {response.status_code}")
        return int(response.headers["content-length"])

    def read(self, key: str, start: int, end: int) -> Iterator[bytes]:
        url = self._url(key)
        headers = self._headers("GET", url, EMPTY_SHA256, {"range": f"bytes={start}-{end}"})
        with httpx.stream("GET", url, headers=headers, timeout=self._timeout) as response:
            if response.status_code not in (200, 206):
                raise S3Error(f"GET {key}: HTTP {response.status_code}")
            yield from response.iter_bytes(CHUNK)

    def delete(self, key: str) -> None:
        url = self._url(key)
        response = httpx.delete(url, headers=self._headers("DELETE", url, EMPTY_SHA256))
        if response.status_code not in (200, 204, 404):
            raise S3Error(f"DELETE {key}: HTTP {response.status_code}")
