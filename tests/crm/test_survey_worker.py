"""A real `rq worker --with-scheduler` process texts a due survey, once."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import redis
from sqlmodel import Session

from crm.survey_jobs import QUEUE, enqueue_survey
from crm.survey_models import Survey, SurveyState
from crm.survey_service import schedule_survey
from hotline.clock import SystemClock
from hotline.settings import Settings
from tests.crm.surveys import resolved_ticket, texts_sent

RQ = Path(sys.executable).parent / "rq"


def test_a_worker_process_with_rqs_scheduler_texts_a_due_survey_once(
    session: Session, settings: Settings, redis_url: str, redis_client: redis.Redis
) -> None:
    now = SystemClock().now()  # the worker process runs on the wall clock
    ticket = resolved_ticket(session, now=now)
    assert ticket.id is not None
    live = settings.model_copy(update={"survey_delay_seconds": 0, "quiet_hours": "none"})
    survey = schedule_survey(session=session, ticket_id=ticket.id, now=now, settings=live)
    assert survey is not None
    session.commit()
    enqueue_survey(redis_client, survey)
    enqueue_survey(redis_client, survey)  # a duplicate enqueue changes nothing
    env = {
        **os.environ,
        "HOTLINE_ENVIRONMENT": "test",
        "HOTLINE_DATABASE_URL": settings.database_url,
        "HOTLINE_REDIS_URL": redis_url,
        "HOTLINE_PUBLIC_URL": settings.public_url,
        "HOTLINE_TWILIO_OUTBOX": "true",
        "HOTLINE_QUIET_HOURS": "none",
        "HOTLINE_SURVEY_DELAY_SECONDS": "0",
    }
    finished = subprocess.run(
        [str(RQ), "worker", "--with-scheduler", "--burst", "--url", redis_url, QUEUE],
        env=env,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert finished.returncode == 0, finished.stderr.decode()[-2000:]
    session.expire_all()
    row = session.get(Survey, survey.id)
    assert row is not None and row.state == SurveyState.sent
    assert len(texts_sent(session)) == 1
