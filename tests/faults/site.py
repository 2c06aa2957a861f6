"""A small site of real processes for the fault tests: API processes behind a round-robin
failover proxy, a worker, and the Twilio emulator (with its REST faults) whose webhooks go
through the proxy and whose REST API the app calls."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from crm.models import CallDisposition, CallLog
from hotline.settings import Settings
from simulator.callers import Directory, VirtualAgent, hangup_after, press
from simulator.clock import SimClock
from simulator.exchange import Exchange, PhoneNumber
from simulator.hosting import free_port
from simulator.server import EmulatorServer
from simulator.transcript import CallRecord
from simulator.webhook import AppEndpoint
from tests.conftest import ADMIN_TOKEN, PUBLIC_URL, TEST_ACCOUNT, TEST_TOKEN
from tests.faults.emulated import HOTLINE
from tests.faults.processes import start_api, start_worker, stop, wait_ready, worker_env
from tests.faults.proxy import FaultProxy

# Emulated time runs this much faster: the caller's hold-music loop comes round every 0.8 s.
SPEED = 10.0
# The patient caller hangs up after a minute of real time: on a loaded machine (the whole suite
# on 2 cores) reaching the agent has taken longer than 30 s.
PATIENCE_SECONDS = 60 * SPEED
CALLER = "+8613600000001"


class Site:
    """The proxy in front of the API processes, and everything started behind it."""

    def __init__(
        self, settings: Settings, redis_url: str, logs: Path, *, apis: int = 2,
        twilio_timeout: float = 3.0,
    ) -> None:  # fmt: skip
        self.ports = [free_port() for _ in range(apis)]
        self.twilio_timeout = twilio_timeout
        self.proxy = FaultProxy("127.0.0.1", *self.ports)
        self.url = f"http://127.0.0.1:{self.proxy.port}"
        agent = VirtualAgent(ring_seconds=(1, 2), talk_mean_seconds=20)
        self.emulator = EmulatorServer(self._exchange_for(agent), TEST_TOKEN)
        self.settings = settings.model_copy(update={"redis_url": redis_url})
        self.logs = logs
        self.apis: list[subprocess.Popen[bytes]] = []
        self.workers: list[subprocess.Popen[bytes]] = []

    def _exchange_for(self, agent: VirtualAgent) -> Callable[[], Exchange]:
        def make() -> Exchange:
            client = httpx.AsyncClient(base_url=self.url, timeout=10)
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

        return make

    def start(self) -> None:
        self.proxy.__enter__()
        self.emulator.start()
        env = worker_env(
            self.settings, HOTLINE_TWILIO_OUTBOX="false", HOTLINE_ADMIN_TOKEN=ADMIN_TOKEN,
            HOTLINE_TWILIO_API_BASE=self.emulator.base_url,
            HOTLINE_TWILIO_TIMEOUT_SECONDS=str(self.twilio_timeout),
        )  # fmt: skip
        for port in self.ports:
            self.apis.append(start_api(port, self.logs / f"api{port}.log", env))
        self.workers.append(start_worker(self.settings, self.logs / "worker.log", env=env))
        for port in self.ports:
            wait_ready(port, self.logs / f"api{port}.log")

    def stop(self) -> None:
        try:
            if self.emulator.exchange is not None:
                self.emulator.run(self.emulator.exchange.drain(), timeout=60)
        finally:
            for process in self.apis + self.workers:
                stop(process)
            self.emulator.stop()
            self.proxy.__exit__(None, None, None)

    @property
    def exchange(self) -> Exchange:
        assert self.emulator.exchange is not None
        return self.emulator.exchange

    def admin(self) -> httpx.Client:
        headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        return httpx.Client(base_url=self.url, headers=headers, timeout=10)

    def create_agent(self, admin: httpx.Client) -> int:
        """A new agent (offline until told otherwise) who takes every queue's calls."""
        created = admin.post(
            "/api/agents",
            json={"name": "坐席一", "login": "agent-one", "password": "a-long-password-1",
                  "skills": {"cards": 8, "accounts": 8, "general": 8},
                  "languages": ["zh", "en"], "role": "agent"},
        )  # fmt: skip
        assert created.status_code == 201, created.text
        return int(created.json()["id"])

    def place_call(self) -> CallRecord:
        """A patient caller who picks cards (1) and waits in the queue."""

        async def place() -> CallRecord:
            script = [press("1"), hangup_after(PATIENCE_SECONDS)]
            return self.exchange.start_call_in(from_=CALLER, to=HOTLINE, script=script).record

        return self.emulator.run(place())

    def log_tail(self) -> str:
        return "\n".join(path.read_text()[-1500:] for path in sorted(self.logs.glob("*.log")))


@contextmanager
def running(site: Site) -> Iterator[Site]:
    try:
        site.start()
        yield site
    finally:
        site.stop()


def wait_until(condition: Callable[[], bool], what: str, site: Site, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"no {what} after {timeout} s\n{site.log_tail()}")
        time.sleep(0.1)


def queued(site: Site) -> int:
    async def count() -> int:
        return sum(len(queue.members) for queue in site.exchange.queues.values())

    return site.emulator.run(count())


def waits_answered(record: CallRecord) -> int:
    return sum(1 for request in record.requests_to("/twilio/voice/wait") if request.status == 200)


def logs_of(engine: Engine, call_sid: str) -> list[CallLog]:
    with Session(engine) as session:
        return list(session.exec(select(CallLog).where(CallLog.call_sid == call_sid)))


def check_answered_once(site: Site, engine: Engine, record: CallRecord, agent_id: int) -> None:
    """The call went well: answered by the agent, logged once on its ticket, agent released."""
    assert record.errors == [], record.errors
    assert record.status == "completed"
    wait_until(lambda: len(logs_of(engine, record.call_sid)) == 1, "call log", site)
    (log,) = logs_of(engine, record.call_sid)
    assert log.disposition == CallDisposition.answered and log.agent_id == agent_id
    assert log.ticket_id is not None
    with Session(engine) as session:
        on_ticket = session.exec(select(CallLog).where(CallLog.ticket_id == log.ticket_id))
        assert [row.call_sid for row in on_ticket] == [record.call_sid]
    with site.admin() as admin:
        state = admin.get(f"/api/agents/{agent_id}").json()["state"]
    assert state in ("wrap_up", "available"), state
