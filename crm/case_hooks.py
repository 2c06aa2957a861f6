"""What follows a change to a ticket, wherever it was made (a route, the call logger): the
SLA clocks start or move, first responses stop the first clock, and the automatic
escalation rules are checked."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from crm import escalations, sla
from crm.case_models import TicketSla
from crm.models import CallLog, Ticket
from hotline.business_hours import BusinessCalendar


def after_ticket_saved(
    *,
    session: Session,
    ticket: Ticket,
    calendar: BusinessCalendar,
    severity_threshold: int | None,
    now: datetime,
) -> TicketSla:
    """Start the clocks of a new ticket or move them after a priority or type change, then
    escalate a severe complaint or a third contact; the ticket's clock state."""
    state = sla.set_due_times(
        session=session, ticket=ticket, calendar=calendar, policy=sla.load_policy()
    )
    escalations.escalate_by_rules(
        session=session,
        ticket=ticket,
        calendar=calendar,
        severity_threshold=severity_threshold,
        now=now,
    )
    return state


def after_call_logged(
    *, session: Session, ticket: Ticket, call: CallLog, calendar: BusinessCalendar, now: datetime
) -> None:
    # A call sets no severity: only the repeat-contact rule can fire here.
    state = after_ticket_saved(
        session=session, ticket=ticket, calendar=calendar, severity_threshold=None, now=now
    )
    if call.answered_at is not None and call.agent_id is not None:
        sla.record_first_response(session=session, ticket=ticket, at=call.answered_at, state=state)
