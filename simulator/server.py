"""The REST emulator on a real port, in a thread with its own event loop.

twilio-python's client is synchronous and speaks HTTP to a host, so it needs a live server;
the exchange, its calls and its HTTP client to the app all live on the server's loop.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from concurrent.futures import Future
from typing import Any, TypeVar

import uvicorn

from simulator.exchange import Exchange
from simulator.faults import RestFaults
from simulator.rest import create_rest_app

T = TypeVar("T")


class EmulatorServer:
    """Start with `start()`, stop with `stop()`; `run(coro)` executes on the server's loop."""

    def __init__(
        self,
        make_exchange: Callable[[], Exchange],
        auth_token: str,
        host: str = "127.0.0.1",
        port: int = 0,
        faults: RestFaults | None = None,
    ) -> None:
        self._make_exchange = make_exchange
        self._auth_token = auth_token
        self._host = host
        self._port = port
        self.faults = faults or RestFaults()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: uvicorn.Server | None = None
        self._serving: Future[None] | None = None
        self.exchange: Exchange | None = None
        self.base_url = ""

    def run(self, work: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
        return self.submit(work).result(timeout)

    def submit(self, work: Coroutine[Any, Any, T]) -> Future[T]:
        """Start `work` on the server's loop without waiting for it."""
        return asyncio.run_coroutine_threadsafe(work, self._loop)

    def start(self) -> EmulatorServer:
        self._thread.start()
        self.run(self._start())
        return self

    async def _start(self) -> None:
        self.exchange = self._make_exchange()
        config = uvicorn.Config(
            create_rest_app(self.exchange, self._auth_token, self.faults),
            host=self._host,
            port=self._port,
            log_level="warning",
            lifespan="off",
            ws="none",
            access_log=False,
        )
        self._server = uvicorn.Server(config)
        self._serving = asyncio.run_coroutine_threadsafe(self._server.serve(), self._loop)
        while not self._server.started:
            await asyncio.sleep(0.01)
        port = self._server.servers[0].sockets[0].getsockname()[1]
        self.base_url = f"http://{self._host}:{port}"

    def stop(self) -> None:
        if self.exchange is not None:
            self.run(self.exchange.drain())
            self.run(self.exchange.endpoint.client.aclose())
        if self._server is not None and self._serving is not None:
            self._server.should_exit = True
            self._serving.result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
