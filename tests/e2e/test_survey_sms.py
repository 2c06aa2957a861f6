"""End to end: a survey goes out through the emulated Twilio's REST API to a virtual phone,
whose owner texts back a score; delivery reports and the reply come in signed."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
import pytest
import redis
from sqlalchemy import Engine
from sqlmodel import Session

from crm.survey_jobs import enqueue_survey, sweep
from crm.survey_models import Survey, SurveyState
from crm.survey_service import Outgoing, claim, schedule_survey
from hotline.app import create_app
from hotline.clock import FrozenClock
from hotline.context import Services
from hotline.settings import Settings
from simulator.clock import SimClock
from simulator.exchange import Exchange, PhoneNumber
from simulator.messaging import Message
from simulator.server import EmulatorServer
from simulator.webhook import AppEndpoint
from tests.conftest import PUBLIC_URL, TEST_ACCOUNT, TEST_TOKEN
from tests.crm.surveys import MOBILE, resolved_ticket, run_due_jobs

HOTLINE = "+864008895555"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Line:
    server: EmulatorServer
    exchange: Exchange
    services: Services

    def texts_to(self, number: str) -> list[Message]:
        return [m for m in self.exchange.messages.values() if m.to == number]


@contextmanager
def hotline_with_phones(
    settings: Settings, clock: FrozenClock, replier: Callable[[Message], str | None]
) -> Iterator[Line]:
    """The app with its REST gateway pointed at the emulator, whose phones text back."""
    port = _free_port()
    live = settings.model_copy(
        update={"twilio_api_base": f"http://127.0.0.1:{port}", "twilio_outbox": False}
    )
    app = create_app(live, clock=clock)

    def make_exchange() -> Exchange:
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=PUBLIC_URL)
        return Exchange(
            endpoint=AppEndpoint(client, PUBLIC_URL, TEST_TOKEN),
            account_sid=TEST_ACCOUNT,
            numbers=[
                PhoneNumber(HOTLINE, "/twilio/voice/incoming", sms_url="/twilio/sms/incoming")
            ],
            clock=SimClock(500),
            sms_replier=replier,
        )

    with EmulatorServer(make_exchange, TEST_TOKEN, port=port) as server:
        lifespan = app.router.lifespan_context(app)
        server.run(lifespan.__aenter__())
        try:
            assert server.exchange is not None
            yield Line(server, server.exchange, app.state.services)
        finally:
            if server.exchange is not None:
                server.run(server.exchange.drain())
            server.run(lifespan.__aexit__(None, None, None))


def survey_for_new_ticket(session: Session, line: Line, customer_id: int | None = None) -> Survey:
    now = line.services.clock.now()
    ticket = resolved_ticket(session, now=now, customer_id=customer_id)
    assert ticket.id is not None
    survey = schedule_survey(
        session=session, ticket_id=ticket.id, now=now, settings=line.services.settings
    )
    assert survey is not None
    session.commit()
    enqueue_survey(line.services.redis, survey)
    return survey


def reloaded(engine: Engine, survey: Survey) -> Survey:
    with Session(engine, expire_on_commit=False) as session:
        row = session.get(Survey, survey.id)
        assert row is not None
        return row


def test_a_phone_receives_the_survey_and_its_score_comes_back(
    settings: Settings, clock: FrozenClock, engine: Engine, redis_client: redis.Redis
) -> None:
    def rate_five(message: Message) -> str | None:
        return "５" if message.direction == "outbound-api" else None

    with (
        hotline_with_phones(settings, clock, rate_five) as line,
        Session(engine, expire_on_commit=False) as session,
    ):
        survey = survey_for_new_ticket(session, line)
        clock.advance(600)
        run_due_jobs(redis_client, clock.now())
        line.server.run(line.exchange.drain())
        texts = line.texts_to(MOBILE)
    question, thanks = texts
    assert "T20261124-0001" in question.body and "回复TD退订" in question.body
    assert thanks.direction == "outbound-reply" and "感谢您的评价" in thanks.body
    row = reloaded(engine, survey)
    assert (row.state, row.score, row.delivery_status) == (SurveyState.answered, 5, "delivered")
    assert row.message_sid == question.sid


def test_a_phone_that_texts_td_is_opted_out_and_gets_no_next_survey(
    settings: Settings, clock: FrozenClock, engine: Engine, redis_client: redis.Redis
) -> None:
    def opt_out(message: Message) -> str | None:
        return "TD" if message.direction == "outbound-api" else None

    with (
        hotline_with_phones(settings, clock, opt_out) as line,
        Session(engine, expire_on_commit=False) as session,
    ):
        first = survey_for_new_ticket(session, line)
        clock.advance(600)
        run_due_jobs(redis_client, clock.now())
        line.server.run(line.exchange.drain())
        # Our record says opted out too, so the next survey is not even tried.
        second = survey_for_new_ticket(session, line, customer_id=first.customer_id)
        assert len(line.texts_to(MOBILE)) == 2  # the survey and the opt-out confirmation
    assert reloaded(engine, first).state == SurveyState.sent
    assert (second.state, second.skip_reason) == (SurveyState.skipped, "opted_out")


def test_a_worker_killed_after_twilio_took_the_text_is_found_over_rest(
    settings: Settings, clock: FrozenClock, engine: Engine, redis_client: redis.Redis
) -> None:
    with hotline_with_phones(settings, clock, lambda message: None) as line:
        with Session(engine, expire_on_commit=False) as session:
            survey = survey_for_new_ticket(session, line)
            clock.advance(600)
            row = session.get(Survey, survey.id)
            assert row is not None
            outgoing = Outgoing(to=MOBILE, body="您的案件T20261124-0001已处理完毕，请打分")
            assert claim(session=session, survey=row, outgoing=outgoing, now=clock.now())
            session.commit()
        sid = line.services.gateway.send_sms(
            to=MOBILE, from_=HOTLINE, body=outgoing.body, status_callback=None
        )  # ...and the worker died here
        clock.advance(line.services.settings.survey_sending_timeout_seconds + 1)
        assert sweep(line.services)["recovered"] == 1
        run_due_jobs(redis_client, clock.now())
        line.server.run(line.exchange.drain())
        assert len(line.texts_to(MOBILE)) == 1
    recovered = reloaded(engine, survey)
    assert (recovered.state, recovered.message_sid) == (SurveyState.sent, sid)


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    # The gateway talks to the emulator on 127.0.0.1; a proxy in the environment must not.
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
