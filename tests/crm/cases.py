"""Helpers for CRM tests: agents with chosen skills, customers, and calls logged on tickets."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Engine

from crm import service as crm
from crm.categories import ensure_categories
from crm.models import CallRecord, CustomerBase, Ticket
from hotline.auth import Role
from hotline.business_hours import parse_calendar
from hotline.clock import FrozenClock
from hotline.db import session_scope
from routing import access
from routing import service as routing
from routing.models import AgentBase
from tests.routing.staff import Staff

CALENDAR = parse_calendar("mon-fri 08:00-20:00", timezone="Asia/Shanghai")


def add_agent(
    engine: Engine,
    clock: FrozenClock,
    *,
    name: str,
    skills: dict[str, int] | None = None,
    department_id: int | None = None,
    role: Role = Role.agent,
) -> Staff:
    with session_scope(engine) as session:
        agent = routing.create_agent(
            session=session,
            data=AgentBase(
                name=name,
                role=role,
                skills=skills if skills is not None else {"cards": 5},
                languages=["zh"],
                department_id=department_id,
            ),
            now=clock.now(),
        )
        assert agent.id is not None
        issued = access.issue_token(
            session=session,
            agent_id=agent.id,
            name="test",
            now=clock.now(),
            expires_at=clock.now() + timedelta(days=60),
        )
        return Staff(agent_id=agent.id, token=issued.token)


@dataclass(frozen=True)
class Crew:
    """Agents of the complaints desk and the cards desk, a supervisor and an admin."""

    complaints: Staff
    cards: Staff
    supervisor: Staff
    admin: Staff


def add_crew(engine: Engine, clock: FrozenClock) -> Crew:
    return Crew(
        complaints=add_agent(engine, clock, name="陈静", skills={"complaints": 6}),
        cards=add_agent(engine, clock, name="刘洋", skills={"cards": 8}),
        supervisor=add_agent(engine, clock, name="赵磊", role=Role.supervisor),
        admin=add_agent(engine, clock, name="Admin", role=Role.admin),
    )


def add_customer(
    engine: Engine, clock: FrozenClock, *, name: str = "李娜", phones: list[str] | None = None
) -> int:
    with session_scope(engine) as session:
        customer = crm.create_customer(
            session=session,
            data=CustomerBase(name=name),
            phones=phones if phones is not None else ["+8613900139000"],
            now=clock.now(),
        )
        assert customer.id is not None
        return customer.id


def log_call(
    engine: Engine,
    clock: FrozenClock,
    *,
    sid: str,
    phone: str = "+8613900139000",
    customer_id: int | None = None,
    agent_id: int | None = None,
    category: str = "complaint",
    complaint: bool = True,
) -> str:
    """A finished call logged on its ticket, as the call logger does; the ticket's number."""
    now = clock.now()
    record = CallRecord(
        call_sid=sid,
        from_number=phone,
        to_number="+864008895555",
        customer_id=customer_id,
        language="zh",
        ivr_path=[],
        category=category,
        subject="投诉 / Complaint",
        complaint=complaint,
        priority=2 if complaint else 3,
        started_at=now - timedelta(minutes=3),
        queue_entered_at=now - timedelta(minutes=2, seconds=50),
        answered_at=now - timedelta(minutes=2, seconds=40) if agent_id else None,
        agent_id=agent_id,
        ended_at=now,
        duration_seconds=180,
    )
    with session_scope(engine) as session:
        ensure_categories(session=session)
        call = crm.log_call(
            session=session, record=record, calendar=CALENDAR, now=now, window_days=7
        )
        ticket = session.get(Ticket, call.ticket_id)
        assert ticket is not None
        return ticket.number


def call_sid(n: int) -> str:
    return f"CA{n:032x}"
