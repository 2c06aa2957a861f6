from __future__ import annotations

import random

import httpx
import pytest
import redis
from rq import SimpleWorker
from sqlalchemy import Engine, func
from sqlmodel import Session, select

from crm.models import CallLog
from hotline.app import create_app
from hotline.clock import FrozenClock
from hotline.jobs import QUEUE_NAMES
from hotline.settings import Settings
from ivr.jobs import log_ended_calls
from simulator.callers import HangUpAfter
from simulator.clock import SimClock
from simulator.exchange import Exchange, PhoneNumber
from simulator.harness import INCOMING_URL, STATUS_URL
from simulator.load import (
    LoadPlan,
    LoadRun,
    agent_phones,
    load_menu,
    menu_skills,
    plan_calls,
    poisson_arrivals,
)
from simulator.provisioning import admin_client, agent_roster, provision_agents
from simulator.webhook import AppEndpoint
from tests.conftest import ADMIN_TOKEN, PUBLIC_URL, TEST_ACCOUNT, TEST_TOKEN

NUMBER = "+864008895555"


def test_poisson_arrivals_come_at_the_mean_rate() -> None:
    arrivals = poisson_arrivals(5.0, 20_000, random.Random(7))
    assert arrivals == sorted(arrivals)
    assert 4.8 < len(arrivals) / arrivals[-1] < 5.2
    gaps = [b - a for a, b in zip(arrivals, arrivals[1:], strict=False)]
    # Exponential gaps: the standard deviation equals the mean.
    mean = sum(gaps) / len(gaps)
    spread = (sum((g - mean) ** 2 for g in gaps) / len(gaps)) ** 0.5
    assert 0.9 < spread / mean < 1.1
    with pytest.raises(ValueError):
        poisson_arrivals(0, 1, random.Random(1))


def test_planned_callers_wait_with_patience_only_when_they_need_an_agent() -> None:
    menu = load_menu()
    plan = LoadPlan(calls=300, rate=2, patience_mean_seconds=60, seed=3)
    planned = plan_calls(plan, menu, random.Random(plan.seed))
    assert len({call.from_ for call in planned}) > 290
    for call in planned:
        timer = call.steps[-1]
        assert isinstance(timer, HangUpAfter)
        assert timer.while_waiting == (call.skill is not None)
    skills = {call.skill for call in planned} - {None}
    assert skills == set(menu_skills(menu))
    assert menu_skills(menu) == [
        "cards",
        "transactions",
        "accounts",
        "loans",
        "complaints",
        "general",
    ]


def test_the_agent_roster_spreads_skills_and_languages() -> None:
    roster = agent_roster(12, ["cards", "loans", "general"], "abc123")
    assert [spec.skills for spec in roster[:3]] == [
        {"cards": 8, "loans": 4},
        {"loans": 8, "general": 4},
        {"general": 8, "cards": 4},
    ]
    assert all("zh" in spec.languages for spec in roster)
    assert sum("en" in spec.languages for spec in roster) == 4
    assert len({spec.login for spec in roster}) == 12 and roster[0].login == "sim-abc123-001"
    assert roster[0].payload()["role"] == "agent"


@pytest.mark.anyio
async def test_ten_callers_through_the_real_app(
    settings: Settings, clock: FrozenClock, redis_client: redis.Redis, engine: Engine
) -> None:
    plan = LoadPlan(calls=10, rate=0.5, agents=3, patience_mean_seconds=20, seed=11)
    planned = plan_calls(plan, load_menu(), random.Random(plan.seed))
    app = create_app(settings, clock=clock)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL) as client,
        admin_client(PUBLIC_URL, ADMIN_TOKEN, transport) as admin,
    ):
        # Agents are signed in through the app's own API, as an operator would.
        provisioned = await provision_agents(admin, agent_roster(3, ["cards"], "t"))
        assert provisioned is not None and len(provisioned) == 3
        exchange = Exchange(
            endpoint=AppEndpoint(client, PUBLIC_URL, TEST_TOKEN),
            account_sid=TEST_ACCOUNT,
            numbers=[PhoneNumber(NUMBER, INCOMING_URL, status_callback=STATUS_URL)],
            clock=SimClock(500),
            answerer=agent_phones(plan),
        )
        run = LoadRun(exchange, NUMBER, planned)
        report = await run.run(time_limit=60)
    SimpleWorker(list(QUEUE_NAMES), connection=redis_client).work(burst=True)
    log_ended_calls()

    assert report.errors_by_code == {}
    assert report.calls == 10 and report.cut_off == 0
    assert report.ended_in_ivr + report.reached_queue == 10
    assert report.reached_queue == sum(1 for call in planned if call.skill is not None)
    # Everyone who reached a queue was answered or gave up there: nobody is lost.
    assert report.answered + report.abandoned + report.short_abandons == report.reached_queue
    assert report.webhook_requests > 10 * 5 and report.latency_p50_ms > 0
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(CallLog)).one() == 10
