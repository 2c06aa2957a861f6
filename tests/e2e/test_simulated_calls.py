"""End to end: the Twilio emulator calls the app in-process, as Twilio would, over signed HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import httpx
import pytest
import redis
from rq import SimpleWorker
from sqlalchemy import Engine
from sqlmodel import Session, select

from crm.models import CallDisposition, CallLog, Ticket
from hotline.app import create_app
from hotline.clock import FrozenClock
from hotline.jobs import QUEUE_NAMES
from hotline.settings import Settings
from ivr.jobs import log_ended_calls
from recordings.models import Recording
from routing import jobs
from routing.router_types import AgentProfile
from simulator.callbacks import CallbackChaos
from simulator.callers import (
    Answerer,
    Directory,
    VirtualAgent,
    hangup_after,
    press,
    record,
    say,
    silence,
)
from simulator.clock import SimClock
from simulator.exchange import Exchange, PhoneNumber
from simulator.webhook import AppEndpoint
from tests.conftest import PUBLIC_URL, TEST_ACCOUNT, TEST_TOKEN

HOTLINE = "+864008895555"
CALLER = "+8613612345678"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@asynccontextmanager
async def hotline_on_twilio(
    settings: Settings,
    clock: FrozenClock,
    *,
    answerer: Answerer | None = None,
    chaos: CallbackChaos | None = None,
) -> AsyncIterator[Exchange]:
    app = create_app(settings, clock=clock)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL) as client:
            exchange = Exchange(
                endpoint=AppEndpoint(client, PUBLIC_URL, TEST_TOKEN),
                account_sid=TEST_ACCOUNT,
                numbers=[
                    PhoneNumber(
                        HOTLINE,
                        "/twilio/voice/incoming",
                        status_callback="/twilio/voice/status",
                        sms_url="/twilio/sms/incoming",
                    )
                ],
                clock=SimClock(500),
                answerer=answerer,
                chaos=chaos,
            )
            yield exchange
            await exchange.drain()


def run_jobs(redis_client: redis.Redis) -> None:
    # RQ installs signal handlers, so its worker runs on the main thread, after the calls.
    SimpleWorker(list(QUEUE_NAMES), connection=redis_client).work(burst=True)
    log_ended_calls()


def logs(engine: Engine) -> list[CallLog]:
    with Session(engine) as session:
        return list(session.exec(select(CallLog)))


@pytest.mark.anyio
async def test_menu_journey_into_a_queue_then_the_caller_gives_up(
    settings: Settings, clock: FrozenClock, engine: Engine, redis_client: redis.Redis
) -> None:
    async with hotline_on_twilio(settings, clock) as twilio:
        call = await twilio.call_in(
            from_=CALLER, to=HOTLINE, script=[press("2"), press("1"), hangup_after(30)]
        )
    run_jobs(redis_client)
    assert call.errors == []
    assert any("欢迎致电" in text for text in call.said)
    assert any("账单与还款请按1" in text for text in call.said)
    (log,) = logs(engine)
    assert log.disposition == CallDisposition.abandoned and log.category == "cards.bills"
    assert log.duration_seconds is not None and log.duration_seconds >= 30


@pytest.mark.anyio
async def test_speech_in_mandarin_and_english(
    settings: Settings, clock: FrozenClock, engine: Engine, redis_client: redis.Redis
) -> None:
    async with hotline_on_twilio(settings, clock) as twilio:
        mandarin = await twilio.call_in(
            from_=CALLER, to=HOTLINE, script=[say("信用卡"), say("我要还款"), hangup_after(5)]
        )
        english = await twilio.call_in(
            from_=CALLER,
            to=HOTLINE,
            script=[press("9"), say("I want to complain"), hangup_after(5)],
        )
    run_jobs(redis_client)
    assert mandarin.errors == [] and english.errors == []
    assert any("Connecting you to an agent" in text for text in english.said)
    categories = sorted(log.category or "" for log in logs(engine))
    assert categories == ["cards.bills", "complaint"]


@pytest.mark.anyio
async def test_silence_ends_with_an_agent_not_a_dropped_call(
    settings: Settings, clock: FrozenClock, engine: Engine, redis_client: redis.Redis
) -> None:
    async with hotline_on_twilio(settings, clock) as twilio:
        call = await twilio.call_in(
            from_=CALLER, to=HOTLINE, script=[silence(), silence(), silence(), hangup_after(10)]
        )
    run_jobs(redis_client)
    assert call.errors == []
    assert sum("没有听清" in text for text in call.said) == 3
    (log,) = logs(engine)
    assert log.skill == "general" and log.disposition == CallDisposition.abandoned


@pytest.mark.anyio
async def test_after_hours_voicemail_lands_on_a_ticket_with_its_recording(
    settings: Settings, clock: FrozenClock, engine: Engine, redis_client: redis.Redis
) -> None:
    clock.set(datetime(2026, 11, 24, 14, 30, tzinfo=UTC))  # 22:30 in Shanghai
    async with hotline_on_twilio(settings, clock) as twilio:
        call = await twilio.call_in(from_=CALLER, to=HOTLINE, script=[silence(), record(15)])
    run_jobs(redis_client)
    assert call.errors == []
    (log,) = logs(engine)
    assert log.disposition == CallDisposition.voicemail
    with Session(engine) as session:
        recording = session.exec(select(Recording)).one()
        assert recording.call_sid == call.call_sid and recording.status == "completed"
        ticket = session.get(Ticket, log.ticket_id)
        assert ticket is not None and ticket.category == "other"


@pytest.mark.anyio
async def test_a_call_reaches_an_agent_who_answers(
    settings: Settings, clock: FrozenClock, engine: Engine, redis_client: redis.Redis
) -> None:
    agent = VirtualAgent(ring_seconds=(2, 3), talk_mean_seconds=60)
    async with hotline_on_twilio(
        settings, clock, answerer=Directory(prefixes={"client:": agent})
    ) as twilio:
        router = jobs.router()
        router.agent_ready(
            agent=AgentProfile(
                agent_id=7, skills={"cards": 8}, languages=["zh"], contact="client:agent_7"
            ),
            now=clock.now(),
        )
        call = await twilio.call_in(from_=CALLER, to=HOTLINE, script=[press("1")])
    run_jobs(redis_client)
    assert call.errors == []
    assert any("正在为您转接" in text for text in call.said)
    (log,) = logs(engine)
    assert log.disposition == CallDisposition.answered
    assert router.agent_state(7)["state"] == "wrap_up"


@pytest.mark.anyio
async def test_repeated_and_shuffled_callbacks_log_each_call_once(
    settings: Settings, clock: FrozenClock, engine: Engine, redis_client: redis.Redis
) -> None:
    chaos = CallbackChaos(duplicate=True, shuffle=True, seed=3)
    async with hotline_on_twilio(settings, clock, chaos=chaos) as twilio:
        for _ in range(3):
            await twilio.call_in(from_=CALLER, to=HOTLINE, script=[press("3"), hangup_after(15)])
    run_jobs(redis_client)
    found = logs(engine)
    assert len(found) == 3
    assert {log.disposition for log in found} == {CallDisposition.abandoned}
    with Session(engine) as session:
        assert len(session.exec(select(Ticket)).all()) == 1  # one caller, one category: repeats
