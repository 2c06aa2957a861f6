"""Helpers for the survey tests: a resolved ticket, and the RQ jobs due by a frozen clock."""

from __future__ import annotations

from datetime import datetime, timedelta

import redis
from rq import Queue, SimpleWorker
from rq.job import Job
from rq.registry import ScheduledJobRegistry
from sqlmodel import Session, select

from crm import service
from crm.models import CustomerBase, CustomerPhone, Ticket, TicketStatus
from crm.survey_jobs import QUEUE
from crm.survey_models import Survey, SurveyState
from crm.survey_service import schedule_survey
from hotline.outbox import OutboxMessage
from hotline.settings import Settings

MOBILE = "+8613812345678"


def resolved_ticket(
    session: Session,
    *,
    now: datetime,
    language: str = "zh",
    consent: bool = True,
    phone: str | None = MOBILE,
    phone_kind: str = "mobile",
    customer_id: int | None = None,
) -> Ticket:
    """A ticket just resolved, of a new customer (or of `customer_id`); committed."""
    if customer_id is None:
        customer = service.create_customer(
            session=session,
            data=CustomerBase(name="王芳", preferred_language=language, consent_sms=consent),
            phones=[],
            now=now,
        )
        assert customer.id is not None
        customer_id = customer.id
        if phone is not None:
            session.add(CustomerPhone(customer_id=customer_id, number=phone, kind=phone_kind))
    ticket = Ticket(
        number=service.next_ticket_number(session=session, day=now.date()),
        customer_id=customer_id,
        category="cards",
        subject="信用卡 / Credit cards",
        status=TicketStatus.resolved,
        created_at=now - timedelta(hours=1),
        updated_at=now,
        last_contact_at=now - timedelta(hours=1),
    )
    session.add(ticket)
    session.commit()
    return ticket


def run_due_jobs(connection: redis.Redis, now: datetime) -> None:
    """What RQ's scheduler and a worker would do by `now` (the frozen clock's, not the wall's)."""
    queue = Queue(QUEUE, connection=connection)
    registry = ScheduledJobRegistry(queue=queue)
    for job_id in registry.get_jobs_to_schedule(int(now.timestamp())):
        job = Job.fetch(job_id, connection=connection)
        registry.remove(job)
        queue.enqueue_job(job)
    SimpleWorker([queue], connection=connection).work(burst=True)


def scheduled_times(connection: redis.Redis) -> list[datetime]:
    registry = ScheduledJobRegistry(queue=Queue(QUEUE, connection=connection))
    return sorted(registry.get_scheduled_time(job_id) for job_id in registry.get_job_ids())


def texts_sent(session: Session) -> list[dict[str, object]]:
    """What the outbox gateway would have texted, oldest first."""
    session.expire_all()
    rows = session.exec(
        select(OutboxMessage).where(OutboxMessage.operation == "messages.create")
    ).all()
    return [row.payload for row in sorted(rows, key=lambda row: row.id or 0)]


def sent_survey(
    session: Session,
    *,
    now: datetime,
    settings: Settings,
    language: str = "zh",
    phone: str = MOBILE,
) -> Survey:
    """A survey texted to `phone` at `now`, waiting for a reply; committed."""
    ticket = resolved_ticket(session, now=now, language=language, phone=phone)
    assert ticket.id is not None
    survey = schedule_survey(session=session, ticket_id=ticket.id, now=now, settings=settings)
    assert survey is not None
    survey.state, survey.phone, survey.sent_at = SurveyState.sent, phone, now
    survey.message_sid = f"SM{ticket.id:032d}"
    survey.body = "您的案件已处理完毕"
    session.add(survey)
    session.commit()
    return survey
