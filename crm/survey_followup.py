"""What a low score (1-2) sets off: the ticket reopened, a supervisor alerted, a callback owed.

Kept small and separate so the lead can route the reopen through the ticket lifecycle's own
transition and the alert through routing's alerts without touching the survey logic.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from sqlmodel import Session, col, select

from crm import escalations, tickets
from crm.callbacks import PENDING
from crm.case_models import EscalationTrigger
from crm.models import Callback, EventKind, Ticket, TicketEvent, TicketStatus
from crm.survey_models import Survey
from crm.ticket_models import TransitionRequest

log = logging.getLogger(__name__)

LOW_SCORES = (1, 2)
CALLBACK_REASON = "low_score"

# Called with (session, ticket, survey, now) after a low score; swap in routing's alerts here.
SupervisorAlert = Callable[[Session, Ticket, Survey, datetime], None]


def record_alert(session: Session, ticket: Ticket, survey: Survey, now: datetime) -> None:
    """The alert until routing's alerts exist: on the ticket's timeline and in the log."""
    assert ticket.id is not None
    session.add(
        TicketEvent(
            ticket_id=ticket.id,
            at=now,
            kind=EventKind.survey,
            data={"event": "supervisor_alert", "survey_id": survey.id, "score": survey.score},
        )
    )
    log.warning("low survey score %s on ticket %s: supervisor alerted", survey.score, ticket.number)


def escalate_to_management(session: Session, ticket: Ticket, survey: Survey, now: datetime) -> None:
    """A customer this unhappy is a manager's case: escalated with its background pack."""
    assert ticket.id is not None
    escalations.escalate(
        session=session,
        ticket_id=ticket.id,
        reason=f"survey score {survey.score}",
        trigger=EscalationTrigger.survey,
        actor="survey",
        now=now,
    )


supervisor_alerts: list[SupervisorAlert] = [record_alert, escalate_to_management]


def reopen_ticket(*, session: Session, ticket: Ticket, now: datetime, reason: str) -> bool:
    """Open the ticket again through the status machine; False when it is already active."""
    if ticket.status not in (TicketStatus.resolved, TicketStatus.closed):
        return False
    tickets.transition(
        session=session,
        ticket=ticket,
        request=TransitionRequest(to=TicketStatus.open, reason=reason),
        actor="survey",
        now=now,
    )
    return True


def owe_callback(
    *, session: Session, ticket: Ticket, phone: str | None, now: datetime
) -> Callback | None:
    """A callback from a senior agent, due now; one per ticket while it is owed."""
    assert ticket.id is not None
    if phone is None:
        return None
    owed = session.exec(
        select(Callback).where(
            Callback.ticket_id == ticket.id,
            Callback.reason == CALLBACK_REASON,
            col(Callback.status).in_(PENDING),
        )
    ).first()
    if owed is not None:
        return owed
    callback = Callback(
        ticket_id=ticket.id,
        customer_id=ticket.customer_id,
        phone=phone,
        due_at=now,
        reason=CALLBACK_REASON,
        created_at=now,
    )
    session.add(callback)
    return callback


def follow_up_low_score(*, session: Session, survey: Survey, now: datetime) -> None:
    """Reopen, alert, owe a callback: everything in the caller's transaction."""
    ticket = session.get(Ticket, survey.ticket_id)
    if ticket is None:
        return
    reopen_ticket(session=session, ticket=ticket, now=now, reason="low_survey_score")
    for alert in supervisor_alerts:
        alert(session, ticket, survey, now)
    owe_callback(session=session, ticket=ticket, phone=survey.phone, now=now)
