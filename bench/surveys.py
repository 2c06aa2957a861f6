"""Surveys through an RQ worker: jobs per second, and how close to their due time they run.

    python bench/surveys.py                     # 10,000 surveys; Redis 127.0.0.1:6379 db 14
    python bench/surveys.py --count 2000 --spread 60

Two phases on one SQLite database (temporary) and the outbox gateway (each send is a row, as
in a demo), run by a `SimpleWorker` in this process:
1. throughput: `count` surveys whose jobs are all queued at once; a worker drains them;
2. accuracy: `count` surveys due at times spread evenly over `--spread` seconds from now,
   scheduled with RQ's `enqueue_at`; the worker runs with RQ's scheduler. Lateness = when the
   job claimed its survey minus its due time (negative: early).
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import local_redis  # noqa: F401  (imported while bench/ is still on the path)
import redis
import unshadow_recordings  # noqa: F401  (before crm imports the package `recordings`)
from local_redis import redis_url
from rq import Queue, SimpleWorker
from sqlmodel import Session, col, select

from crm import service
from crm.models import CustomerBase, CustomerPhone, Ticket, TicketStatus
from crm.survey_jobs import QUEUE, enqueue_survey, send_survey
from crm.survey_models import Survey, SurveyState
from crm.survey_service import schedule_survey
from hotline.clock import SystemClock
from hotline.context import Services
from hotline.db import make_engine, migrate
from hotline.jobs import job_id, use_services
from hotline.settings import Environment, Settings


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def resolved_tickets(session: Session, count: int, first: int, now: datetime) -> list[int]:
    """`count` customers, each with a mobile and a resolved ticket."""
    ids = []
    for n in range(first, first + count):
        customer = service.create_customer(
            session=session, data=CustomerBase(name=f"客户{n}"), phones=[], now=now
        )
        assert customer.id is not None
        session.add(CustomerPhone(customer_id=customer.id, number=f"+86138{n:08d}"))
        ticket = Ticket(
            number=f"T20261124-{n:05d}", customer_id=customer.id, category="cards",
            subject="bench", status=TicketStatus.resolved, created_at=now, updated_at=now,
            last_contact_at=now,
        )  # fmt: skip
        session.add(ticket)
        session.flush()
        assert ticket.id is not None
        ids.append(ticket.id)
    session.commit()
    return ids


def schedule(services: Services, ticket_ids: list[int], due: list[datetime]) -> list[Survey]:
    with Session(services.engine, expire_on_commit=False) as session:
        surveys = []
        for ticket_id, due_at in zip(ticket_ids, due, strict=True):
            survey = schedule_survey(
                session=session, ticket_id=ticket_id, now=services.clock.now(),
                settings=services.settings,
            )  # fmt: skip
            assert survey is not None and survey.state == SurveyState.scheduled
            survey.due_at = due_at
            surveys.append(survey)
        session.commit()
    return surveys


def lateness(services: Services, ids: list[str]) -> list[float]:
    with Session(services.engine) as session:
        rows = session.exec(
            select(Survey.due_at, Survey.claimed_at).where(col(Survey.id).in_(ids))
        ).all()
    return [(claimed - due).total_seconds() for due, claimed in rows if claimed is not None]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--spread", type=float, default=None, help="seconds (default count/40)")
    parser.add_argument("--redis-url", default=None)
    args = parser.parse_args()
    spread = args.spread if args.spread is not None else args.count / 40
    logging.basicConfig(level=logging.WARNING)

    with redis_url(args.redis_url, db=14) as url, tempfile.TemporaryDirectory() as tmp:
        database = f"sqlite:///{Path(tmp) / 'bench.db'}"
        migrate(database)
        settings = Settings(
            environment=Environment.test, database_url=database, redis_url=url,
            twilio_outbox=True, quiet_hours="none", survey_delay_seconds=0, survey_min_days=0,
            demo_data=False,
        )  # fmt: skip
        connection = redis.Redis.from_url(url)
        connection.flushdb()
        services = Services.build(
            settings, clock=SystemClock(), engine=make_engine(database), redis_client=connection
        )
        use_services(services)
        now = services.clock.now()
        with Session(services.engine) as session:
            tickets = resolved_tickets(session, 2 * args.count, 1, now)

        # 1. throughput: every job queued now.
        started = time.perf_counter()
        burst = schedule(services, tickets[: args.count], [now] * args.count)
        scheduling = time.perf_counter() - started
        queue = Queue(QUEUE, connection=connection)
        for survey in burst:
            queue.enqueue(send_survey, survey.id, job_id=job_id("bench", survey.id))
        started = time.perf_counter()
        SimpleWorker([queue], connection=connection).work(burst=True, logging_level="WARNING")
        drained = time.perf_counter() - started

        # 2. accuracy: due times spread over `spread` seconds. The first falls due only after
        # the scheduling itself is done (twice phase 1's time, for the enqueue_at calls too):
        # a job due before the worker even starts would measure the bench, not the scheduler.
        lead = 3 + 2 * scheduling
        start = services.clock.now() + timedelta(seconds=lead)
        step = spread / max(1, args.count - 1)
        due = [start + timedelta(seconds=n * step) for n in range(args.count)]
        timed = schedule(services, tickets[args.count :], due)
        for survey in timed:
            enqueue_survey(connection, survey)
        SimpleWorker([queue], connection=connection).work(
            with_scheduler=True, max_jobs=args.count, logging_level="WARNING"
        )
        late = lateness(services, [survey.id for survey in timed])
        with Session(services.engine) as session:
            sent = session.exec(select(Survey.id).where(Survey.state == SurveyState.sent)).all()

    print(f"surveys: {args.count} per phase; SQLite + outbox gateway; one SimpleWorker")
    print(f"scheduling (schedule_survey + commit): {args.count / scheduling:8.0f} surveys/s")
    print(f"throughput (claim, send, mark sent):  {args.count / drained:8.1f} jobs/s "
          f"({drained:.1f} s for {args.count})")  # fmt: skip
    print(f"accuracy over {spread:.0f} s from {lead:.0f} s on, {len(late)} runs: lateness "
          f"p50 {percentile(late, 0.5):.3f} s, p99 {percentile(late, 0.99):.3f} s, "
          f"max {max(late):.3f} s, earliest {min(late):+.3f} s")  # fmt: skip
    print(f"texted once each: {len(sent) == 2 * args.count} ({len(sent)} sent)")


if __name__ == "__main__":
    main()
