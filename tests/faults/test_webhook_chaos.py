"""Twilio repeats and reorders its webhooks (issue 9): the figures and tickets do not change.

One seeded scenario — repeat callers, callers answered by agents, callers who give up in a
queue nobody staffs — runs twice on fresh database and Redis state: once with every webhook
delivered once and in order, once with every status callback sent twice and shuffled
(`CallbackChaos`). The app's clock is the emulator's simulated clock, so waits and talks are
seconds of simulated time; the calls run one after another, so the outcomes (who answered, who
gave up, on which ticket) are the scenario's, not the scheduler's. The queue figures of the
stats API and the tickets with their call logs must come out equal.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import redis
from rq import SimpleWorker
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from crm.models import CallLog, Ticket
from hotline.app import create_app
from hotline.jobs import QUEUE_NAMES
from hotline.settings import Settings
from ivr.jobs import log_ended_calls
from routing import jobs
from routing.router_types import AgentProfile
from simulator.callbacks import ALL_EVENTS, CallbackChaos
from simulator.callers import Directory, VirtualAgent, hangup_after, press
from simulator.clock import SimClock
from simulator.exchange import Exchange, PhoneNumber
from simulator.webhook import AppEndpoint
from tests.conftest import (
    ADMIN_TOKEN,
    OPEN_HOURS,
    PUBLIC_URL,
    TEST_ACCOUNT,
    TEST_TOKEN,
    _empty_tables,
)
from tests.faults.emulated import HOTLINE

SEED = 20261124
CALLS = 6
SPEED = 60.0
# Figures that count events; times (ASA, talk, longest wait) are left out on purpose.
COUNTS = (
    "offered", "answered", "abandoned", "short_abandons", "answered_within_sl",
    "abandoned_after_sl", "handled",
)  # fmt: skip


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@dataclass(frozen=True)
class PlannedCall:
    caller: str
    key: str
    patience: float


def scenario() -> list[PlannedCall]:
    """Four callers, some calling twice; "1" reaches the staffed cards queue, "3" a queue no
    agent takes, where the caller gives up well past the service-level threshold."""
    rng = random.Random(SEED)
    callers = [f"+8613700000{n:03d}" for n in range(4)]
    return [
        PlannedCall(rng.choice(callers), rng.choice("13"), rng.choice((45.0, 70.0)))
        for _ in range(CALLS)
    ]


def make_agent_ready(clock: SimClock) -> None:
    profile = AgentProfile(
        agent_id=1, skills={"cards": 8}, languages=["zh", "en"], contact="client:agent_1"
    )
    jobs.router().agent_ready(agent=profile, now=clock.now())


def run_jobs(redis_client: redis.Redis) -> None:
    jobs.tick()  # wrap-up ends, as the heartbeat would
    SimpleWorker(list(QUEUE_NAMES), connection=redis_client).work(burst=True)
    log_ended_calls()


async def run(
    settings: Settings, redis_client: redis.Redis, chaos: CallbackChaos | None
) -> tuple[list[str], dict[str, Any], int]:
    """Place the scenario's calls one by one; their sids, the stats API's figures and how many
    status callbacks the app received."""
    clock = SimClock(SPEED, start=OPEN_HOURS)
    app = create_app(settings, clock=clock)
    sids = []
    callbacks = 0
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL) as client:
            agent = VirtualAgent(ring_seconds=(2, 4), talk_mean_seconds=30, rng=random.Random(SEED))
            exchange = Exchange(
                endpoint=AppEndpoint(client, PUBLIC_URL, TEST_TOKEN),
                account_sid=TEST_ACCOUNT,
                numbers=[
                    # Every progress event, not only Twilio's "completed", so there is more
                    # to repeat and reorder.
                    PhoneNumber(
                        HOTLINE,
                        "/twilio/voice/incoming",
                        status_callback="/twilio/voice/status",
                        status_callback_events=ALL_EVENTS,
                    )
                ],
                clock=clock,
                answerer=Directory(prefixes={"client:": agent}),
                chaos=chaos,
            )
            make_agent_ready(clock)
            for planned in scenario():
                script = [press(planned.key), hangup_after(planned.patience)]
                record = await exchange.call_in(from_=planned.caller, to=HOTLINE, script=script)
                assert record.errors == [], record.errors
                sids.append(record.call_sid)
                callbacks += sum(1 for r in record.requests if r.purpose == "status-callback")
                await exchange.drain()
                run_jobs(redis_client)
            stats = await client.get(
                "/api/supervisor/stats", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
            )
            assert stats.status_code == 200, stats.text
    queues = {
        queue["queue"]: {name: queue["today"][name] for name in COUNTS}
        for queue in stats.json()["queues"]
    }
    return sids, queues, callbacks


def tickets(engine: Engine, sids: list[str]) -> list[tuple[Any, ...]]:
    """Per call, in the scenario's order: its outcome and its ticket, the ticket named by the
    first call on it (ids differ between runs), with the ticket's status and number of calls."""
    with Session(engine) as session:
        logs = {log.call_sid: log for log in session.exec(select(CallLog))}
        assert sorted(logs) == sorted(sids)  # every call logged, once
        rows = session.exec(select(Ticket).order_by(col(Ticket.id))).all()
        by_id = {ticket.id: ticket for ticket in rows}
    first_call: dict[int | None, int] = {}
    outcome = []
    for index, sid in enumerate(sids):
        log = logs[sid]
        name = first_call.setdefault(log.ticket_id, index)
        ticket = by_id[log.ticket_id]
        calls_on_ticket = sum(1 for other in logs.values() if other.ticket_id == log.ticket_id)
        outcome.append(
            (log.from_number, str(log.disposition), log.category, log.agent_id, name,
             str(ticket.status), calls_on_ticket)
        )  # fmt: skip
    assert len(by_id) == len(first_call)  # no ticket without a call
    return outcome


@pytest.mark.anyio
async def test_repeated_and_shuffled_webhooks_leave_figures_and_tickets_as_they_were(
    settings: Settings, engine: Engine, redis_client: redis.Redis
) -> None:
    live = settings.model_copy(update={"wrapup_seconds": 0})
    clean_sids, clean_figures, clean_callbacks = await run(live, redis_client, None)
    clean_tickets = tickets(engine, clean_sids)
    _empty_tables(engine)
    redis_client.flushdb()
    chaos = CallbackChaos(duplicate=True, shuffle=True, seed=SEED)
    chaos_sids, chaos_figures, chaos_callbacks = await run(live, redis_client, chaos)
    chaos_tickets = tickets(engine, chaos_sids)
    # The scenario has both kinds of outcome, or the comparison would prove little.
    dispositions = {row[1] for row in clean_tickets}
    assert {"answered", "abandoned"} <= dispositions, clean_tickets
    assert chaos_callbacks == 2 * clean_callbacks > 0
    assert chaos_figures == clean_figures
    assert chaos_tickets == clean_tickets
