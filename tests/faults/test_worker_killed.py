"""A worker killed in the middle of a job (issues 7 and 9): nothing lost, nothing sent twice.

A real worker process is SIGKILLed while its REST request to the emulated Twilio is in flight
(the emulator holds that request): either Twilio had already taken it (the message is out, the
call ringing) and the database still says `sending`/`dialing`, or the request was lost before
Twilio took it. A new worker process comes up; the job's lease lapses and the sweeper recovers
the claim: it looks the message up on Twilio before sending again, and a placed call has made
itself known by its webhooks. The customer gets exactly one text, one call.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from sqlalchemy import Engine
from sqlmodel import Session

from crm.callback_jobs import SWEEPER, schedule_placement
from crm.models import Callback
from crm.survey_jobs import enqueue_survey
from crm.survey_models import Survey, SurveyState
from crm.survey_service import schedule_survey
from hotline.clock import FrozenClock, SystemClock
from hotline.leases import lease_seconds
from hotline.settings import Settings
from simulator.callers import Directory, VirtualCustomer, press
from tests.crm.callback_world import CUSTOMER_PHONE, add_ticket, callback_of
from tests.crm.surveys import MOBILE, resolved_ticket
from tests.faults.emulated import Emulated, emulated_twilio
from tests.faults.processes import kill, rq_worker, start_worker, stop, worker_env

TWILIO_TIMEOUT = 2.0
TAKEN = pytest.mark.parametrize("taken", [True, False], ids=["twilio-took-it", "lost-on-the-way"])


@pytest.fixture
def base(settings: Settings, redis_url: str, redis_client: redis.Redis) -> Settings:
    """The test's settings on its own Redis (no fault proxy here), jobs due at once."""
    return settings.model_copy(
        update={
            "redis_url": redis_url,
            "business_hours": "always",
            "survey_delay_seconds": 0,
            "quiet_hours": "none",
            "twilio_timeout_seconds": TWILIO_TIMEOUT,
        }
    )


def env_for(line: Emulated) -> dict[str, str]:
    return worker_env(
        line.settings,
        HOTLINE_TWILIO_OUTBOX="false",
        HOTLINE_TWILIO_API_BASE=line.settings.twilio_api_base or "",
        HOTLINE_TWILIO_TIMEOUT_SECONDS=str(TWILIO_TIMEOUT),
        HOTLINE_SURVEY_SWEEP_SECONDS="1",
        HOTLINE_CALLBACK_SWEEP_SECONDS="1",
        HOTLINE_QUIET_HOURS="none",
        HOTLINE_SURVEY_DELAY_SECONDS="0",
    )


def wait_for(condition: Callable[[], bool], what: str, log: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"no {what} after {timeout} s\n{log.read_text()[-3000:]}")
        time.sleep(0.05)


class Workers:
    """Worker processes started by one test, all stopped at its end."""

    def __init__(self, line: Emulated, log: Path, command: list[str] | None = None) -> None:
        self._line, self.log, self._command = line, log, command
        self.started: list[subprocess.Popen[bytes]] = []

    def start(self) -> subprocess.Popen[bytes]:
        process = start_worker(
            self._line.settings, self.log, command=self._command, env=env_for(self._line)
        )
        self.started.append(process)
        return process

    def stop_all(self) -> None:
        for process in self.started:
            stop(process)


def survey_row(engine: Engine, survey_id: str) -> Survey:
    with Session(engine) as session:
        row = session.get(Survey, survey_id)
        assert row is not None
        return row


@pytest.fixture
def workers_log(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / "workers.log"


@TAKEN
def test_a_hotline_worker_killed_mid_send_texts_the_survey_once(
    base: Settings, engine: Engine, redis_client: redis.Redis, workers_log: Path, taken: bool
) -> None:
    with emulated_twilio(base) as line, Session(engine, expire_on_commit=False) as session:
        now = SystemClock().now()  # the worker processes run on the wall clock
        ticket = resolved_ticket(session, now=now)
        assert ticket.id is not None
        survey = schedule_survey(session=session, ticket_id=ticket.id, now=now, settings=base)
        assert survey is not None
        session.commit()
        line.faults.hold("messages.create", taken=taken)
        enqueue_survey(redis_client, survey)
        workers = Workers(line, workers_log)
        try:
            first = workers.start()
            wait_for(lambda: line.faults.waiting("messages.create") == 1, "send", workers_log)
            assert survey_row(engine, survey.id).state == SurveyState.sending
            kill(first)
            line.faults.release()
            killed_at = time.monotonic()
            workers.start()
            wait_for(
                lambda: survey_row(engine, survey.id).state == SurveyState.sent,
                "survey sent", workers_log,
            )  # fmt: skip
            # Recovered once the lease lapsed, not after the long sending timeout.
            assert time.monotonic() - killed_at < lease_seconds(line.settings) + 15
        finally:
            workers.stop_all()
        texts = line.texts_to(MOBILE)
        assert len(texts) == 1, [text.body for text in texts]
        row = survey_row(engine, survey.id)
        assert row.message_sid == texts[0].sid
        assert row.attempts == (1 if taken else 2)


@TAKEN
def test_an_rq_worker_killed_mid_placement_calls_the_customer_once(
    base: Settings,
    engine: Engine,
    redis_url: str,
    redis_client: redis.Redis,
    workers_log: Path,
    taken: bool,
) -> None:
    # The customer answers and presses 1: resolved, no further call owed.
    customer = VirtualCustomer(steps=[press("1")], ring_seconds=2, talk_seconds=10)
    phones = Directory(exact={CUSTOMER_PHONE: customer})
    with emulated_twilio(base, answerer=phones, speed=5) as line:
        now = SystemClock().now()
        ticket_id = add_ticket(engine, FrozenClock(now))
        with Session(engine) as session:
            callback = Callback(ticket_id=ticket_id, phone=CUSTOMER_PHONE, reason="followup",
                                due_at=now - timedelta(seconds=1), created_at=now)  # fmt: skip
            session.add(callback)
            session.commit()
            assert callback.id is not None
            callback_id = callback.id
        line.faults.hold("calls.create", taken=taken)
        assert schedule_placement(
            redis_client, callback_id=callback_id, attempts=0, due_at=now, now=now
        )
        # `hotline worker` starts the sweeper chain; under RQ's own CLI the deployment does.
        SWEEPER.start(redis_client)
        workers = Workers(line, workers_log, command=rq_worker(redis_url, "callbacks"))
        try:
            first = workers.start()
            wait_for(lambda: line.faults.waiting("calls.create") == 1, "placement", workers_log)
            claimed = callback_of(engine, callback_id)
            # A call Twilio took makes itself known by its webhooks, worker or no worker.
            assert claimed.status == "dialing" and (taken or claimed.call_sid is None)
            kill(first)
            line.faults.release()
            workers.start()
            wait_for(
                lambda: callback_of(engine, callback_id).call_sid is not None,
                "call on the callback", workers_log,
            )  # fmt: skip
            line.drain()
            # Two more sweeps with the call over: nothing placed again.
            time.sleep(2.5)
        finally:
            workers.stop_all()
        calls = line.calls_to(CUSTOMER_PHONE)
        assert len(calls) == 1, [call.call_sid for call in calls]
        placed = callback_of(engine, callback_id)
        assert (placed.status, placed.attempts, placed.outcome) == ("completed", 1, "resolved")
