"""A tiny S3-compatible bucket on a real port, for the S3 storage's tests (S3 is a vendor, like
Twilio, played here the way the simulator plays Twilio): checks SigV4 signatures and payload
checksums as S3 does, keeps objects in memory, answers ranges."""

from __future__ import annotations

import base64
import hashlib
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from recordings.s3 import sigv4_headers
from tests.recordings.emulated import free_port

ACCESS_KEY = "AKIDHOTLINETEST"
SECRET_KEY = "hotline-test-secret-key"
REGION = "cn-north-1"
BUCKET = "hotline-recordings"


def _error(code: str, status: int) -> Response:
    return Response(f"<Error><Code>{code}</Code></Error>", status, media_type="application/xml")


def make_app(objects: dict[str, bytes]) -> Starlette:
    async def handle(request: Request) -> Response:
        key = request.path_params["key"]
        body = await request.body()
        payload = request.headers.get("x-amz-content-sha256", "")
        stamp = datetime.strptime(request.headers.get("x-amz-date", ""), "%Y%m%dT%H%M%SZ")
        signed = re.search(r"SignedHeaders=([^,]+)", request.headers.get("authorization", ""))
        names = signed.group(1).split(";") if signed else []
        extra = {n: request.headers[n] for n in names if n not in ("host", "x-amz-date")}
        extra.pop("x-amz-content-sha256", None)
        expected = sigv4_headers(
            method=request.method,
            url=str(request.url),
            region=REGION,
            access_key=ACCESS_KEY,
            secret_key=SECRET_KEY,
            payload_sha256=payload,
            now=stamp.replace(tzinfo=UTC),
            extra=extra,
        )
        if expected["authorization"] != request.headers.get("authorization"):
            return _error("SignatureDoesNotMatch", 403)
        if request.method == "PUT":
            if hashlib.sha256(body).hexdigest() != payload:
                return _error("XAmzContentSHA256Mismatch", 400)
            checksum = base64.b64encode(hashlib.sha256(body).digest()).decode()
            if request.headers.get("x-amz-checksum-sha256") != checksum:
                return _error("BadDigest", 400)
            objects[key] = body
            return Response(status_code=200)
        if key not in objects:
            return _error("NoSuchKey", 404)
        if request.method == "DELETE":
            del objects[key]
            return Response(status_code=204)
        data = objects[key]
        if request.method == "HEAD":
            return Response(status_code=200, headers={"content-length": str(len(data))})
        match = re.match(r"bytes=(\d+)-(\d+)", request.headers.get("range", ""))
        if match:
            start, end = int(match.group(1)), min(int(match.group(2)), len(data) - 1)
            return Response(data[start : end + 1], 206)
        return Response(data, 200)

    methods = ["GET", "PUT", "HEAD", "DELETE"]
    return Starlette(routes=[Route(f"/{BUCKET}/{{key:path}}", handle, methods=methods)])


@contextmanager
def fake_s3() -> Iterator[tuple[str, dict[str, bytes]]]:
    """The endpoint URL and the bucket's objects by key."""
    objects: dict[str, bytes] = {}
    port = free_port()
    config = uvicorn.Config(
        make_app(objects), host="127.0.0.1", port=port, log_level="warning", lifespan="off"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        threading.Event().wait(0.01)
    try:
        yield f"http://127.0.0.1:{port}", objects
    finally:
        server.should_exit = True
        thread.join(10)
