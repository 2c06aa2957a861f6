"""Twilio's REST API answering 500s or not answering at all for a while (issue 9).

Queue pushes: real processes (an API, a worker) and the emulator, whose REST API fails or
hangs past the client's timeout (`HOTLINE_TWILIO_TIMEOUT_SECONDS`, 1 s here) when the agent
becomes available. The push fails; the caller's wait loop finds the offer by itself and the
caller reaches the agent all the same.

Survey texts and callback calls: the app in-process on a frozen clock, RQ jobs in a
SimpleWorker, the emulator on a real port. Each failure puts the job back with back-off; a
request Twilio took but never answered is looked up (a text) or shows itself by its webhooks
(a call) before anything is sent again: the customer gets one text, one call.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import redis
from sqlalchemy import Engine
from sqlmodel import Session

from crm.survey_jobs import BACKOFF_SECONDS
from crm.survey_models import Survey, SurveyState
from hotline.clock import FrozenClock
from hotline.leases import lease_seconds
from hotline.settings import Settings
from simulator.callers import press
from tests.crm.callback_world import add_ticket, callback_of, callback_world
from tests.crm.surveys import MOBILE, run_due_jobs
from tests.crm.test_callback_calls import schedule
from tests.e2e.test_survey_sms import hotline_with_phones, reloaded, survey_for_new_ticket
from tests.faults.site import Site, check_answered_once, queued, running, wait_until, waits_answered


@pytest.mark.parametrize("fault", ["500", "hang"])
def test_a_push_twilio_refuses_or_leaves_hanging_falls_back_to_the_wait_loop(
    settings: Settings,
    redis_url: str,
    redis_client: redis.Redis,
    engine: Engine,
    tmp_path: Path,
    fault: str,
) -> None:
    site = Site(settings, redis_url, tmp_path, apis=1, twilio_timeout=1.0)
    with running(site), site.admin() as admin:
        agent_id = site.create_agent(admin)
        record = site.place_call()
        wait_until(lambda: queued(site) == 1 and waits_answered(record) >= 1, "caller queued", site)
        faults = site.emulator.faults
        if fault == "500":
            faults.fail_with(500)
        else:
            faults.hang = True
        answer = admin.put(f"/api/agents/{agent_id}/state", json={"state": "available"})
        assert answer.status_code == 200, answer.text
        site.emulator.run(site.exchange.drain(), timeout=60)
        # The push was tried, and Twilio never took it.
        assert (faults.failed if fault == "500" else faults.hung) >= 1
        faults.fail_with(None)
        faults.hang = False
        check_answered_once(site, engine, record, agent_id)


def test_a_survey_is_texted_once_through_twilio_500s_a_lost_answer_and_a_hang(
    settings: Settings, clock: FrozenClock, engine: Engine, redis_client: redis.Redis
) -> None:
    live = settings.model_copy(update={"twilio_timeout_seconds": 1.0, "quiet_hours": "none"})
    with (
        hotline_with_phones(live, clock, lambda message: None) as line,
        Session(engine, expire_on_commit=False) as session,
    ):
        faults = line.server.faults
        survey = survey_for_new_ticket(session, line)
        clock.advance(live.survey_delay_seconds)

        def attempt() -> Survey:
            run_due_jobs(redis_client, clock.now())
            return reloaded(engine, survey)

        faults.fail_with(500)  # Twilio refuses: nothing sent, again after the first back-off
        row = attempt()
        assert (row.state, row.attempts) == (SurveyState.scheduled, 1)
        assert row.due_at == clock.now() + timedelta(seconds=BACKOFF_SECONDS[0])
        faults.fail_with(None)
        # Twilio takes the text, but its answer never comes back within the timeout.
        faults.hold("messages.create", taken=True)
        clock.advance(BACKOFF_SECONDS[0])
        row = attempt()
        assert (row.state, row.attempts) == (SurveyState.scheduled, 2)
        assert row.due_at == clock.now() + timedelta(seconds=BACKOFF_SECONDS[1])
        faults.release()
        faults.hang = True  # no answer at all: not even the look-up gets through
        clock.advance(BACKOFF_SECONDS[1])
        row = attempt()
        assert (row.state, row.attempts) == (SurveyState.scheduled, 3)
        faults.hang = False
        clock.advance(BACKOFF_SECONDS[2])
        row = attempt()  # the look-up finds the text Twilio took: it is not sent again
        line.server.run(line.exchange.drain())
        texts = line.texts_to(MOBILE)
        assert len(texts) == 1
        assert (row.state, row.message_sid) == (SurveyState.sent, texts[0].sid)


def test_a_callback_calls_once_through_twilio_500s_and_a_lost_answer(
    settings: Settings, clock: FrozenClock, engine: Engine, redis_client: redis.Redis
) -> None:
    live = settings.model_copy(update={"twilio_timeout_seconds": 1.0})
    callback_id = schedule(engine, clock, live, add_ticket(engine, clock))
    with callback_world(live, clock, redis_client) as world:
        world.customer.steps = [press("1")]
        faults = world.server.faults
        faults.fail_with(500)
        world.work()
        refused = callback_of(engine, callback_id)
        assert (refused.status, refused.call_sid) == ("scheduled", None)
        assert refused.due_at > clock.now()  # again after the back-off
        assert world.calls_to_customer() == []
        faults.fail_with(None)
        # Twilio places the call, but its answer never comes back within the timeout.
        faults.hold("calls.create", taken=True)
        world.at(refused.due_at)
        world.work()
        faults.release()
        assert len(world.calls_to_customer()) == 1
        # Later sweeps, past the lease of a dead worker and past the claim timeout: no call.
        for seconds in (lease_seconds(live) + 1, live.callback_claim_timeout_seconds):
            clock.advance(seconds)
            world.work()
        calls = world.calls_to_customer()
        assert len(calls) == 1 and calls[0].errors == []
    done = callback_of(engine, callback_id)
    assert (done.status, done.outcome, done.attempts) == ("completed", "resolved", 2)
