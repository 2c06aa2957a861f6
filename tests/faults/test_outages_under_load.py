"""Redis or PostgreSQL stops for 30 s while calls keep coming (issue: faults under load).

Emulated Twilio places a call every half second into the app (in-process, real clock); a real
`hotline worker` process runs the jobs. The app, the worker and this test's router reach the
server through a proxy the test cuts for OUTAGE_SECONDS. Afterwards: no webhook answered with
an error or without TwiML, every call is on a ticket, routing took calls again by itself, and
no agent was left holding a call that had ended.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, func
from sqlmodel import Session, select

from crm.models import CallDisposition, CallLog
from hotline.app import create_app
from hotline.settings import Settings
from ivr.models import ParkedCallEvent
from routing import jobs
from routing.router_types import AgentProfile
from simulator.callers import Directory, VirtualAgent, hangup_after, press
from simulator.clock import SimClock
from simulator.exchange import Exchange, PhoneNumber
from simulator.transcript import CallRecord
from simulator.webhook import AppEndpoint
from tests.conftest import PG_TEST_DATABASE, POSTGRES_UP, PUBLIC_URL, TEST_ACCOUNT, TEST_TOKEN
from tests.faults.processes import start_worker, stop
from tests.faults.proxy import FaultProxy

OUTAGE_SECONDS = 30.0
BEFORE_SECONDS = 4.0
AFTER_SECONDS = 8.0
CALL_EVERY_SECONDS = 0.5
AGENTS = 4
HOTLINE = "+864008895555"
# Emulated time runs this much faster: menus, rings and talks take seconds, not minutes.
SPEED = 10.0


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def live_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"business_hours": "always", "wrapup_seconds": 0})


@pytest.fixture
def worker(live_settings: Settings, tmp_path: Path) -> Iterator[Path]:
    log_path = tmp_path / "worker.log"
    process = start_worker(live_settings, log_path)
    yield log_path
    stop(process)


def make_agents_ready() -> None:
    router = jobs.router()
    for agent_id in range(1, AGENTS + 1):
        profile = AgentProfile(
            agent_id=agent_id,
            skills={"cards": 8, "accounts": 8, "general": 8},
            languages=["zh", "en"],
            contact=f"client:agent_{agent_id}",
        )
        router.agent_ready(agent=profile, now=jobs.services().clock.now())


def counts(engine: Engine) -> tuple[int, int]:
    """(calls logged, status events parked) as the database holds them now."""
    with Session(engine) as session:
        logged = session.exec(select(func.count()).select_from(CallLog)).one()
        parked = session.exec(select(func.count()).select_from(ParkedCallEvent)).one()
    return int(logged), int(parked)


async def place_calls(
    exchange: Exchange, proxy: FaultProxy, engine: Engine
) -> tuple[list[CallRecord], tuple[int, int]]:
    """Calls every half second; the proxy is cut after BEFORE_SECONDS for OUTAGE_SECONDS.
    Also returns what the database held when the server came back."""
    calls = []
    at_return = (0, 0)
    started = time.monotonic()
    total = BEFORE_SECONDS + OUTAGE_SECONDS + AFTER_SECONDS
    n = 0
    while (elapsed := time.monotonic() - started) < total:
        if proxy.is_up and BEFORE_SECONDS <= elapsed < BEFORE_SECONDS + OUTAGE_SECONDS:
            proxy.cut()
        elif not proxy.is_up and elapsed >= BEFORE_SECONDS + OUTAGE_SECONDS:
            at_return = counts(engine)
            proxy.restore()
        key = "13"[n % 2]
        script = [press(key), hangup_after(120)]  # a patient caller: waits up to 2 minutes
        calls.append(exchange.start_call_in(from_=f"+86136{n:08d}", to=HOTLINE, script=script))
        n += 1
        await asyncio.sleep(CALL_EVERY_SECONDS)
    proxy.restore()
    await exchange.drain()
    return [call.record for call in calls], at_return


async def run_load(
    settings: Settings, proxy: FaultProxy, engine: Engine
) -> tuple[list[CallRecord], tuple[int, int]]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        make_agents_ready()
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL) as client:
            agent = VirtualAgent(ring_seconds=(2, 4), talk_mean_seconds=40)
            exchange = Exchange(
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
            return await place_calls(exchange, proxy, engine)


def wait_until_logged(engine: Engine, expected: int, worker_log: Path) -> list[CallLog]:
    deadline = time.monotonic() + 60
    while True:
        with Session(engine) as session:
            logs = list(session.exec(select(CallLog)))
            parked = session.exec(select(func.count()).select_from(ParkedCallEvent)).one()
        if len(logs) >= expected and parked == 0:
            return logs
        if time.monotonic() > deadline:
            pytest.fail(
                f"{len(logs)} of {expected} calls logged, {parked} events still parked\n"
                + worker_log.read_text()[-3000:]
            )
        time.sleep(0.5)


def check_outcome(records: list[CallRecord], engine: Engine, worker_log: Path) -> None:
    errors = [error for record in records for error in record.errors]
    assert errors == [], errors[:5]
    logs = wait_until_logged(engine, len(records), worker_log)
    assert {log.call_sid for log in logs} == {record.call_sid for record in records}
    assert all(log.ticket_id is not None for log in logs)
    # Routing is back by itself: calls that came after the outage reached agents.
    last = {record.call_sid for record in records[-int(AFTER_SECONDS / CALL_EVERY_SECONDS) :]}
    assert any(log.call_sid in last and log.disposition == CallDisposition.answered for log in logs)
    # Every call is over, so no agent may still hold one.
    router = jobs.router()
    states = {router.agent_state(agent_id).get("state") for agent_id in range(1, AGENTS + 1)}
    assert states <= {"available", "wrap_up"}, states


@pytest.mark.anyio
async def test_redis_stops_for_30_seconds_under_load(
    live_settings: Settings, redis_proxy: FaultProxy, engine: Engine, worker: Path
) -> None:
    records, (_, parked) = await run_load(live_settings, redis_proxy, engine)
    # Calls that ended in the outage: their ends waited in the database, not lost.
    assert parked > 0
    check_outcome(records, engine, worker)


@pytest.fixture
def pg_proxy(database: tuple[str, Engine]) -> Iterator[FaultProxy]:
    if not database[0].startswith("postgresql") or not POSTGRES_UP:
        pytest.skip("cuts a PostgreSQL connection")
    with FaultProxy("127.0.0.1", 5432) as proxy:
        yield proxy


@pytest.fixture
def pg_settings(live_settings: Settings, pg_proxy: FaultProxy) -> Settings:
    url = f"postgresql://postgres@127.0.0.1:{pg_proxy.port}/{PG_TEST_DATABASE}"
    return live_settings.model_copy(update={"database_url": url})


@pytest.mark.anyio
async def test_postgresql_stops_for_30_seconds_under_load(
    pg_settings: Settings, pg_proxy: FaultProxy, engine: Engine, tmp_path: Path
) -> None:
    log_path = tmp_path / "worker.log"
    process = start_worker(pg_settings, log_path)
    try:
        records, (logged, _) = await run_load(pg_settings, pg_proxy, engine)
        # Calls ended during the outage and waited in Redis: fewer were on tickets then.
        ended_before_return = sum(1 for record in records if record.status == "completed")
        assert logged < ended_before_return
        check_outcome(records, engine, log_path)
    finally:
        stop(process)
