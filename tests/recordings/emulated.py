"""The app on an emulated Twilio with a REST port: calls are placed by the emulator and the
app's REST requests (recording media, deletes, pauses) go back to it, as with real Twilio."""

from __future__ import annotations

import socket
from collections.abc import Iterator, Sequence
from concurrent.futures import Future
from contextlib import AbstractAsyncContextManager, contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import redis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from rq import SimpleWorker

from hotline.app import create_app
from hotline.clock import FrozenClock
from hotline.jobs import QUEUE_NAMES
from hotline.settings import Settings
from ivr.jobs import log_ended_calls
from routing import jobs as routing_jobs
from routing.router_types import AgentProfile
from simulator.callers import Directory, Step, VirtualCustomer
from simulator.clock import SimClock
from simulator.exchange import Exchange, PhoneNumber
from simulator.server import EmulatorServer
from simulator.transcript import CallRecord
from simulator.webhook import AppEndpoint
from tests.conftest import PUBLIC_URL, TEST_ACCOUNT, TEST_TOKEN

HOTLINE = "+864008895555"
CALLER = "+8613612345678"
# Simulated seconds per real second: a minute's talk takes 3 s.
SPEED = 20


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class EmulatedHotline:
    app: FastAPI
    server: EmulatorServer
    client: TestClient
    redis: redis.Redis

    @property
    def exchange(self) -> Exchange:
        assert self.server.exchange is not None
        return self.server.exchange

    def agent_ready(self, agent_id: int, now: Any) -> None:
        routing_jobs.router().agent_ready(
            agent=AgentProfile(
                agent_id=agent_id,
                skills={"cards": 8},
                languages=["zh"],
                contact=f"client:agent_{agent_id}",
            ),
            now=now,
        )

    def call(self, script: Sequence[Step]) -> CallRecord:
        return self.server.run(
            self.exchange.call_in(from_=CALLER, to=HOTLINE, script=script), timeout=60
        )

    def start_call(self, script: Sequence[Step]) -> Future[CallRecord]:
        return self.server.submit(self.exchange.call_in(from_=CALLER, to=HOTLINE, script=script))

    def run_jobs(self) -> None:
        SimpleWorker(list(QUEUE_NAMES), connection=self.redis).work(burst=True)
        log_ended_calls()


@contextmanager
def emulated_hotline(
    settings: Settings,
    clock: FrozenClock,
    redis_client: redis.Redis,
    *,
    talk_seconds: float = 60,
    **overrides: Any,
) -> Iterator[EmulatedHotline]:
    port = free_port()
    settings = settings.model_copy(
        update={"twilio_api_base": f"http://127.0.0.1:{port}", "twilio_outbox": False, **overrides}
    )
    app = create_app(settings, clock=clock)
    lifespan: AbstractAsyncContextManager[None] = app.router.lifespan_context(app)
    agent = VirtualCustomer(ring_seconds=2, talk_seconds=talk_seconds)

    def make_exchange() -> Exchange:
        # Built on the emulator's loop, like the app's side of the conversation.
        transport = httpx.ASGITransport(app=app)
        client = httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL)
        return Exchange(
            endpoint=AppEndpoint(client, PUBLIC_URL, TEST_TOKEN),
            account_sid=TEST_ACCOUNT,
            numbers=[
                PhoneNumber(
                    HOTLINE, "/twilio/voice/incoming", status_callback="/twilio/voice/status"
                )
            ],
            clock=SimClock(SPEED),
            answerer=Directory(prefixes={"client:": agent}),
        )

    server = EmulatorServer(make_exchange, TEST_TOKEN, port=port)
    server.start()
    try:
        server.run(lifespan.__aenter__())
        try:
            yield EmulatedHotline(app, server, TestClient(app, base_url=PUBLIC_URL), redis_client)
        finally:
            server.run(server.exchange.drain() if server.exchange else _nothing())
            server.run(lifespan.__aexit__(None, None, None))
    finally:
        server.stop()


async def _nothing() -> None:
    return None
