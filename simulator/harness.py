"""The emulator on a real port and the Hotline it drives: a running one (`url`) or one started
here. Shared by `hotline simulate` and `bench/simulate_load.py`."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass

import httpx

from simulator.callers import Answerer
from simulator.callstats import LoadReport
from simulator.clock import SimClock
from simulator.exchange import Exchange, PhoneNumber
from simulator.hosting import SelfHostedHotline
from simulator.load import LoadRun, PlannedCall, Snapshot
from simulator.provisioning import AgentSpec, admin_client, provision_agents, sign_out_agents
from simulator.server import EmulatorServer
from simulator.webhook import AppEndpoint

# Hotline's default wrap-up (HOTLINE_WRAPUP_SECONDS).
DEFAULT_WRAPUP_SECONDS = 30

INCOMING_URL = "/twilio/voice/incoming"
STATUS_URL = "/twilio/voice/status"
# Concurrent requests from the emulator to the app: every live call can have one in flight.
MAX_CONNECTIONS = 500


class UnreachableHotline(Exception):
    """Nothing answers at the Hotline's URL."""


@dataclass(frozen=True)
class Account:
    """The Twilio account the emulator plays and the credentials the Hotline checks."""

    auth_token: str
    account_sid: str
    admin_token: str
    number: str


class Harness:
    """Start with `start()`, stop with `stop()`; runs go on the emulator's event loop."""

    def __init__(
        self,
        account: Account,
        *,
        answerer: Answerer,
        speed: float,
        url: str | None = None,
        public_url: str | None = None,
        emulator_port: int = 0,
    ) -> None:
        self.account = account
        self.hosted = (
            SelfHostedHotline(
                auth_token=account.auth_token,
                account_sid=account.account_sid,
                admin_token=account.admin_token,
                # The app's own timers run in real time: shrink the wrap-up by the speed-up so
                # agents come back when the simulated day expects them.
                wrapup_seconds=round(DEFAULT_WRAPUP_SECONDS / speed) if speed > 0 else None,
            )
            if url is None
            else None
        )
        self.url = url if url is not None else self.hosted.url if self.hosted else ""
        self.public_url = public_url or self.url
        self._answerer = answerer
        self._speed = speed
        self.emulator = EmulatorServer(self._make_exchange, account.auth_token, port=emulator_port)

    def _make_exchange(self) -> Exchange:
        # Built on the emulator's loop: the app's client belongs to that loop.
        limits = httpx.Limits(max_connections=MAX_CONNECTIONS)
        client = httpx.AsyncClient(base_url=self.url, limits=limits)
        number = PhoneNumber(self.account.number, INCOMING_URL, status_callback=STATUS_URL)
        return Exchange(
            endpoint=AppEndpoint(client, self.public_url, self.account.auth_token),
            account_sid=self.account.account_sid,
            numbers=[number],
            clock=SimClock(self._speed),
            answerer=self._answerer,
        )

    @property
    def exchange(self) -> Exchange:
        assert self.emulator.exchange is not None, "start() the harness first"
        return self.emulator.exchange

    def start(self) -> None:
        # httpx logs every request at INFO: thousands of lines in a load run.
        logging.getLogger("httpx").setLevel(logging.WARNING)
        self.emulator.start()
        if self.hosted is not None:
            self.hosted.start(self.emulator.base_url)
            return
        try:
            httpx.get(f"{self.url}/healthz", timeout=5)
        except httpx.HTTPError as exc:
            raise UnreachableHotline(f"no Hotline answers at {self.url}: {exc}") from exc

    def provision(self, roster: Sequence[AgentSpec]) -> list[str] | None:
        """The agents' ids once available, or None when the Hotline has no agent API."""

        async def provision() -> list[str] | None:
            async with admin_client(self.url, self.account.admin_token) as client:
                return await provision_agents(client, roster)

        return self.emulator.run(provision(), timeout=60 + len(roster))

    def sign_out(self, agent_ids: Sequence[str]) -> None:
        async def sign_out() -> None:
            async with admin_client(self.url, self.account.admin_token) as client:
                await sign_out_agents(client, agent_ids)

        if agent_ids:
            self.emulator.run(sign_out(), timeout=60 + len(agent_ids))

    def new_run(self, planned: Sequence[PlannedCall]) -> LoadRun:
        return LoadRun(self.exchange, self.account.number, planned)

    def start_run(self, run: LoadRun, time_limit: float | None) -> Future[LoadReport]:
        return self.emulator.submit(run.run(time_limit))

    def snapshot(self, run: LoadRun) -> Snapshot:
        async def snapshot() -> Snapshot:
            return run.snapshot()

        return self.emulator.run(snapshot())

    def stop(self) -> None:
        try:
            self.emulator.stop()
        finally:
            if self.hosted is not None:
                self.hosted.stop()
