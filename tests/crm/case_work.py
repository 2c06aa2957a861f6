"""Helpers for hand-off, escalation and SLA tests: a bank with a card centre, calls logged on
the app's own business calendar, the SLA watch run as the job runs it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from crm import service as crm
from crm.case_models import Escalation
from crm.categories import ensure_categories
from crm.jobs import watch_slas
from crm.models import CallRecord, Ticket
from hotline.auth import Role
from hotline.clock import FrozenClock
from hotline.context import Services
from hotline.db import session_scope
from recordings.models import Recording
from tests.crm.cases import add_agent, add_customer
from tests.routing.staff import Staff

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


@dataclass(frozen=True)
class Bank:
    """The complaints desk, the cards desk, the card centre, a supervisor, a customer."""

    complaints: Staff
    cards: Staff
    card_centre: Staff
    loans: Staff
    supervisor: Staff
    customer_id: int

    def ticket(self, client: TestClient, number: str) -> dict[str, object]:
        response = client.get(f"/api/tickets/{number}", headers=self.supervisor.headers)
        assert response.status_code == 200
        body: dict[str, object] = response.json()
        return body


def add_bank(engine: Engine, clock: FrozenClock) -> Bank:
    with session_scope(engine) as session:
        card_centre = crm.create_department(
            session=session, code="card_centre", name_zh="信用卡中心", name_en="Card centre"
        ).id
        loans = crm.create_department(
            session=session, code="loans", name_zh="贷款部", name_en="Loans"
        ).id
    return Bank(
        complaints=add_agent(engine, clock, name="陈静", skills={"complaints": 6}),
        cards=add_agent(engine, clock, name="刘洋", skills={"cards": 8}),
        card_centre=add_agent(engine, clock, name="王芳", skills={}, department_id=card_centre),
        loans=add_agent(engine, clock, name="孙伟", skills={}, department_id=loans),
        supervisor=add_agent(engine, clock, name="赵磊", role=Role.supervisor),
        customer_id=add_customer(engine, clock),
    )


def services_of(client: TestClient) -> Services:
    services: Services = client.app.state.services  # type: ignore[attr-defined]
    return services


def log_call(
    client: TestClient,
    clock: FrozenClock,
    *,
    sid: str,
    customer_id: int | None,
    agent_id: int | None = None,
    category: str = "complaint",
    complaint: bool = True,
) -> str:
    """A finished call logged on its ticket with the app's calendar; the ticket's number."""
    services = services_of(client)
    now = clock.now()
    record = CallRecord(
        call_sid=sid,
        from_number="+8613900139000",
        to_number="+864008895555",
        customer_id=customer_id,
        language="zh",
        ivr_path=[],
        category=category,
        subject="投诉 / Complaint" if complaint else "咨询 / Inquiry",
        complaint=complaint,
        priority=2 if complaint else 3,
        started_at=now - timedelta(minutes=3),
        queue_entered_at=now - timedelta(minutes=2, seconds=50),
        answered_at=now - timedelta(minutes=2, seconds=40) if agent_id else None,
        agent_id=agent_id,
        ended_at=now,
        duration_seconds=180,
    )
    with session_scope(services.engine) as session:
        ensure_categories(session=session)
        call = crm.log_call(
            session=session,
            record=record,
            calendar=services.calendar,
            now=now,
            window_days=services.settings.repeat_contact_window_days,
        )
        ticket = session.get(Ticket, call.ticket_id)
        assert ticket is not None
        return ticket.number


def add_recording(engine: Engine, clock: FrozenClock, *, call_sid: str) -> int:
    with session_scope(engine) as session:
        recording = Recording(
            recording_sid="RE" + call_sid[2:],
            call_sid=call_sid,
            status="completed",
            duration_seconds=170,
            created_at=clock.now(),
            updated_at=clock.now(),
        )
        session.add(recording)
        session.flush()
        assert recording.id is not None
        return recording.id


def run_watch() -> dict[str, int]:
    report = watch_slas()
    assert report is not None
    return report


def escalations_of(engine: Engine, number: str) -> list[Escalation]:
    with Session(engine) as session:
        ticket = session.exec(select(Ticket).where(Ticket.number == number)).one()
        return list(
            session.exec(
                select(Escalation)
                .where(Escalation.ticket_id == ticket.id)
                .order_by(col(Escalation.id))
            )
        )


def kinds(ticket: dict[str, object]) -> list[str]:
    timeline = ticket["timeline"]
    assert isinstance(timeline, list)
    return [str(event["kind"]) for event in timeline]
