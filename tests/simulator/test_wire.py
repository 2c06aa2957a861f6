"""The emulator's lean webhook transport speaks plain HTTP/1.1 the way httpx's own does."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import httpx
import pytest

from simulator.hosting import free_port
from simulator.wire import WireTransport

Answer = Callable[[bytes], bytes]


# The bench runs the emulator on uvloop, whose transports are not asyncio's classes.
@pytest.fixture(params=[{}, {"use_uvloop": True}], ids=["asyncio", "uvloop"])
def anyio_backend(request: pytest.FixtureRequest) -> tuple[str, dict[str, bool]]:
    return ("asyncio", request.param)


def plain(body: bytes, *, close: bool = False) -> bytes:
    extra = b"Connection: close\r\n" if close else b""
    return (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\n"
        + extra
        + b"Content-Length: %d\r\n\r\n" % len(body)
        + body
    )


@asynccontextmanager
async def server(answer: Answer) -> AsyncIterator[tuple[str, list[bytes], list[int]]]:
    """A raw HTTP server: the requests it read, and how many connections it accepted."""
    requests: list[bytes] = []
    connections = [0]

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections[0] += 1
        try:
            while head := await reader.readuntil(b"\r\n\r\n"):
                length = next(
                    (
                        int(line.split(b":")[1])
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length:")
                    ),
                    0,
                )
                request = head + await reader.readexactly(length)
                requests.append(request)
                reply = answer(request)
                writer.write(reply)
                await writer.drain()
                if b"Connection: close" in reply:
                    break
        except asyncio.IncompleteReadError:
            pass
        writer.close()

    port = free_port()
    listening = await asyncio.start_server(handle, "127.0.0.1", port)
    try:
        yield f"http://127.0.0.1:{port}", requests, connections
    finally:
        listening.close()


@pytest.mark.anyio
async def test_requests_carry_httpxs_headers_and_body_and_reuse_one_connection() -> None:
    async with (
        server(lambda request: plain(b"<Response/>")) as (url, requests, connections),
        httpx.AsyncClient(transport=WireTransport(), base_url=url) as client,
    ):
        for _ in range(3):
            response = await client.post(
                "/voice?x=1", content=b"CallSid=CA1", headers={"X-Twilio-Signature": "sig"}
            )
            assert response.status_code == 200
            assert response.content == b"<Response/>"
            assert response.headers["content-type"] == "text/xml"
    assert connections == [1]
    head, _, body = requests[0].partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    assert lines[0] == b"POST /voice?x=1 HTTP/1.1"
    assert b"X-Twilio-Signature: sig" in lines
    assert b"Content-Length: 11" in lines
    assert body == b"CallSid=CA1"


@pytest.mark.anyio
async def test_a_chunked_answer_is_joined() -> None:
    chunked = (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5\r\n<Resp\r\n6\r\nonse/>\r\n0\r\n\r\n"
    )
    async with (
        server(lambda request: chunked) as (url, _, _),
        httpx.AsyncClient(transport=WireTransport()) as client,
    ):
        response = await client.get(f"{url}/wait")
    assert response.content == b"<Response/>"


@pytest.mark.anyio
async def test_a_connection_the_app_closed_is_replaced() -> None:
    async with (
        server(lambda request: plain(b"ok", close=True)) as (url, requests, connections),
        httpx.AsyncClient(transport=WireTransport()) as client,
    ):
        for _ in range(2):
            assert (await client.post(f"{url}/status", content=b"a=1")).content == b"ok"
            await asyncio.sleep(0.01)
    assert connections == [2]


@pytest.mark.anyio
async def test_nobody_listening_is_a_connect_error() -> None:
    async with httpx.AsyncClient(transport=WireTransport()) as client:
        with pytest.raises(httpx.ConnectError):
            await client.post(f"http://127.0.0.1:{free_port()}/voice", content=b"a=1")
