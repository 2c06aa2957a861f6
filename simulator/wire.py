"""A lean httpx transport for the emulator's webhooks: plain HTTP/1.1 over kept-alive sockets.

At volume the emulator posts thousands of webhooks a second to the app, and httpcore's
general-purpose machinery (anyio streams, h11, a pool scanned on every request, an import
attempted on every request to find out which event loop runs) cost it more CPU than
everything else it does. This transport sends the same bytes httpx would put on the wire —
the request line, httpx's headers as they are, the body — in one write, and parses the answer
with httptools (the C parser uvicorn uses). The `httpx.AsyncClient` above it is unchanged:
base URL, redirects and the response object are still httpx's.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import cast

import httptools
import httpx


class _Connection(asyncio.Protocol):
    """One socket to the app; carries one request at a time."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.keep_alive = False
        self._parser = httptools.HttpResponseParser(self)
        self._answer: asyncio.Future[httpx.Response] | None = None
        self._received = False
        self._status = 0
        self._headers: list[tuple[bytes, bytes]] = []
        self._body: list[bytes] = []
        self._headers_done = False
        self._delimited = False

    # asyncio.Protocol --------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports do not subclass asyncio.Transport, though they are one.
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        if self._answer is None or self._answer.done():
            self.close()  # bytes nobody asked for: the connection cannot be trusted
            return
        self._received = True
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(httpx.RemoteProtocolError(f"invalid response: {exc}"))

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._answer is None or self._answer.done():
            return
        if self._headers_done and not self._delimited:
            self._finish()  # a body without a length ends where the connection does
        else:
            self._fail(httpx.RemoteProtocolError("Server disconnected without sending a response."))

    # httptools callbacks -----------------------------------------------------------------

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers.append((name, value))
        if name.lower() in (b"content-length", b"transfer-encoding"):
            self._delimited = True

    def on_headers_complete(self) -> None:
        self._status = self._parser.get_status_code()
        self._headers_done = True

    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        self.keep_alive = self._parser.should_keep_alive()
        self._finish()

    # ------------------------------------------------------------------------------------

    async def exchange(self, payload: bytes) -> httpx.Response:
        """Send one request and wait for its whole response."""
        assert self.transport is not None
        self._answer = asyncio.get_running_loop().create_future()
        self._received = False
        self._status, self._headers, self._body = 0, [], []
        self._headers_done = self._delimited = False
        self.keep_alive = False
        self.transport.write(payload)
        return await self._answer

    @property
    def received(self) -> bool:
        """Whether any of the answer to the last request arrived."""
        return self._received

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    def _finish(self) -> None:
        assert self._answer is not None
        if not self._answer.done():
            self._answer.set_result(
                httpx.Response(
                    self._status,
                    headers=self._headers,
                    stream=httpx.ByteStream(b"".join(self._body)),
                    extensions={"http_version": b"HTTP/1.1"},
                )
            )

    def _fail(self, exc: Exception) -> None:
        assert self._answer is not None
        if not self._answer.done():
            self._answer.set_exception(exc)
        self.close()


class WireTransport(httpx.AsyncBaseTransport):
    """http:// only; at most `max_connections` open at once, requests beyond wait for one.

    The client's timeouts are not applied here: `simulator.webhook.deliver` bounds each
    request by the endpoint's own timeout, as Twilio bounds each webhook.
    """

    def __init__(self, max_connections: int = 100) -> None:
        self._idle: defaultdict[tuple[str, int], list[_Connection]] = defaultdict(list)
        self._slots = asyncio.Semaphore(max_connections)
        self._open: set[_Connection] = set()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        if url.scheme != "http":
            raise httpx.UnsupportedProtocol(f"{url.scheme!r} is not supported here")
        address = (url.host, url.port or 80)
        body = await request.aread()
        head = [request.method.encode(), b" ", url.raw_path, b" HTTP/1.1\r\n"]
        for name, value in request.headers.raw:
            head += (name, b": ", value, b"\r\n")
        payload = b"".join((*head, b"\r\n", body))
        async with self._slots:
            while True:
                connection, reused = await self._connection(address)
                try:
                    response = await connection.exchange(payload)
                except httpx.RemoteProtocolError:
                    # A kept-alive socket the app closed as we wrote: try a fresh one, as
                    # httpcore does. Anything else (or a new socket failing) is an answer.
                    if reused and not connection.received:
                        continue
                    raise
                except BaseException:
                    connection.close()  # cancelled mid-request: the socket is out of step
                    raise
                finally:
                    self._open.discard(connection)
                if connection.keep_alive and not connection.closed:
                    self._idle[address].append(connection)
                else:
                    connection.close()
                return response

    async def _connection(self, address: tuple[str, int]) -> tuple[_Connection, bool]:
        idle = self._idle[address]
        while idle:
            connection = idle.pop()
            if not connection.closed:
                self._open.add(connection)
                return connection, True
        loop = asyncio.get_running_loop()
        try:
            _, connection = await loop.create_connection(_Connection, *address)
        except OSError as exc:
            raise httpx.ConnectError(str(exc)) from exc
        self._open.add(connection)
        return connection, False

    async def aclose(self) -> None:
        for connections in self._idle.values():
            for connection in connections:
                connection.close()
        self._idle.clear()
        for connection in self._open:
            connection.close()
        self._open.clear()
