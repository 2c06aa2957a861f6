"""The SLA watch the scheduled job runs: warnings before a breach, breaches recorded and
escalated, overdue hand-offs flagged. Each happens once per ticket (flags in `ticket_sla` and
on the hand-off, rows locked while read), however many workers run it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, true
from sqlmodel import Session, col, select

from crm.case_models import EscalationTrigger, TicketSla
from crm.escalations import escalate
from crm.handoffs import flag_overdue
from crm.models import ACTIVE_STATUSES, EventKind, Ticket, TicketStatus
from crm.tickets import append_event
from hotline.business_hours import BusinessCalendar

FIRST_RESPONSE = "first_response"
RESOLUTION = "resolution"


@dataclass
class WatchReport:
    warned: int = 0
    breached: int = 0
    escalated: int = 0
    overdue_handoffs: int = 0


def _candidates(
    session: Session, clock: str, horizon: datetime, limit: int
) -> list[tuple[TicketSla, Ticket]]:
    if clock == FIRST_RESPONSE:
        due = col(Ticket.first_response_due_at)
        breached = col(TicketSla.first_response_breached)
        running: ColumnElement[bool] = col(TicketSla.first_responded_at).is_(None)
    else:
        due = col(Ticket.resolution_due_at)
        breached = col(TicketSla.resolution_breached)
        running = true()
    statuses = [
        str(status) for status in ACTIVE_STATUSES if status is not TicketStatus.pending_customer
    ]
    query = (
        select(TicketSla, Ticket)
        .join(Ticket, col(Ticket.id) == col(TicketSla.ticket_id))
        .where(col(Ticket.status).in_(statuses), col(TicketSla.paused_since).is_(None), running)
        .where(due.is_not(None), due <= horizon, breached.is_(False))
        .order_by(due)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return [(state, ticket) for state, ticket in session.exec(query)]


def _check_clock(
    session: Session,
    report: WatchReport,
    clock: str,
    *,
    calendar: BusinessCalendar,
    now: datetime,
    warn_before: timedelta,
    limit: int,
) -> None:
    for state, ticket in _candidates(session, clock, now + warn_before, limit):
        due = ticket.first_response_due_at if clock == FIRST_RESPONSE else ticket.resolution_due_at
        assert due is not None and ticket.id is not None
        data = {"clock": clock, "due_at": due.isoformat()}
        if due > now:
            if getattr(state, f"{clock}_warned"):
                continue
            setattr(state, f"{clock}_warned", True)
            session.add(state)
            append_event(
                session=session,
                ticket=ticket,
                kind=EventKind.sla_warning,
                at=now,
                actor="system",
                data=data,
            )
            report.warned += 1
            continue
        setattr(state, f"{clock}_warned", True)
        setattr(state, f"{clock}_breached", True)
        ticket.breached = True
        session.add_all([state, ticket])
        append_event(
            session=session,
            ticket=ticket,
            kind=EventKind.sla_breach,
            at=now,
            actor="system",
            data=data,
        )
        report.breached += 1
        _, new = escalate(
            session=session,
            ticket_id=ticket.id,
            reason=f"the {clock.replace('_', ' ')} SLA was due {due.isoformat()}",
            trigger=EscalationTrigger.sla_breach,
            actor="system",
            now=now,
            calendar=calendar,
        )
        report.escalated += new


def watch(
    *,
    session: Session,
    calendar: BusinessCalendar,
    now: datetime,
    warn_before: timedelta,
    limit: int = 500,
) -> WatchReport:
    report = WatchReport()
    for clock in (FIRST_RESPONSE, RESOLUTION):
        _check_clock(
            session, report, clock, calendar=calendar, now=now, warn_before=warn_before, limit=limit
        )
    report.overdue_handoffs = flag_overdue(session=session, now=now, limit=limit)
    session.flush()
    return report
