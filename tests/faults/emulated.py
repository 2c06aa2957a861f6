"""The Twilio emulator on a real port, with its REST faults, and the app in this process
answering its webhooks; worker processes reach the same emulator through its URL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AsyncExitStack, contextmanager
from dataclasses import dataclass

import httpx
from fastapi import FastAPI

from hotline.app import create_app
from hotline.settings import Settings
from simulator.callers import Answerer, Directory
from simulator.clock import SimClock
from simulator.exchange import Exchange, PhoneNumber
from simulator.faults import RestFaults
from simulator.hosting import free_port
from simulator.messaging import Message
from simulator.server import EmulatorServer
from simulator.transcript import CallRecord
from simulator.webhook import AppEndpoint
from tests.conftest import PUBLIC_URL, TEST_ACCOUNT, TEST_TOKEN

HOTLINE = "+864008895555"


@dataclass
class Emulated:
    server: EmulatorServer
    settings: Settings
    app: FastAPI

    @property
    def exchange(self) -> Exchange:
        assert self.server.exchange is not None
        return self.server.exchange

    @property
    def faults(self) -> RestFaults:
        return self.server.faults

    def texts_to(self, number: str) -> list[Message]:
        return [m for m in list(self.exchange.messages.values()) if m.to == number]

    def calls_to(self, number: str) -> list[CallRecord]:
        return [c.record for c in list(self.exchange.calls.values()) if c.to == number]

    def drain(self, timeout: float = 60) -> None:
        self.server.run(self.exchange.drain(), timeout=timeout)


@contextmanager
def emulated_twilio(
    settings: Settings, *, answerer: Answerer | None = None, speed: float = 1.0
) -> Iterator[Emulated]:
    """`settings` with the REST gateway pointed at the emulator; the app, built from them,
    answers the emulator's webhooks in this process."""
    port = free_port()
    live = settings.model_copy(
        update={"twilio_api_base": f"http://127.0.0.1:{port}", "twilio_outbox": False}
    )
    app = create_app(live)

    def make_exchange() -> Exchange:
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=PUBLIC_URL)
        return Exchange(
            endpoint=AppEndpoint(client, PUBLIC_URL, TEST_TOKEN),
            account_sid=TEST_ACCOUNT,
            numbers=[
                PhoneNumber(
                    HOTLINE,
                    "/twilio/voice/incoming",
                    status_callback="/twilio/voice/status",
                    sms_url="/twilio/sms/incoming",
                )  # fmt: skip
            ],
            clock=SimClock(speed),
            answerer=answerer or Directory(),
        )

    server = EmulatorServer(make_exchange, TEST_TOKEN, port=port).start()
    stack = AsyncExitStack()
    try:
        server.run(stack.enter_async_context(app.router.lifespan_context(app)))
        yield Emulated(server, live, app)
    finally:
        # Whatever the test left switched on: requests still held must end for the server to.
        server.faults.release()
        server.faults.hang = False
        server.faults.fail_with(None)
        try:
            if server.exchange is not None:
                server.run(server.exchange.drain(), timeout=60)
            server.run(stack.aclose())
        finally:
            server.stop()
