"""Hand-offs: a ticket's question put to a department (card centre, loans, compliance…)
with a due time; the department answers and the ticket returns to its owner."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from crm.business_time import add_business_seconds
from crm.case_models import Handoff, HandoffPublic, HandoffRequest
from crm.escalations import after_status_change
from crm.models import Department, EventKind, Ticket, TicketStatus, TransitionRequest
from crm.tickets import append_event, transition
from hotline.business_hours import BusinessCalendar
from hotline.errors import Conflict, Invalid, NotFound


def department_by_code(*, session: Session, code: str) -> Department:
    department = session.exec(select(Department).where(Department.code == code)).first()
    if department is None:
        raise Invalid(f"no department {code!r}")
    return department


def hand_off(
    *,
    session: Session,
    ticket: Ticket,
    data: HandoffRequest,
    actor: str,
    calendar: BusinessCalendar,
    now: datetime,
) -> Handoff:
    """Ask the department; the ticket waits on it (pending_department) and is in its scope."""
    department = department_by_code(session=session, code=data.department)
    assert ticket.id is not None and department.id is not None
    if data.due_at is not None:
        due = data.due_at
        if due <= now:
            raise Invalid("due_at is in the past")
    else:
        assert data.due_in_hours is not None
        due = add_business_seconds(calendar, now, data.due_in_hours * 3600)
    old = TicketStatus(ticket.status)
    handoff = Handoff(
        ticket_id=ticket.id,
        department_id=department.id,
        asked_by=actor,
        question=data.question,
        asked_at=now,
        due_at=due,
    )
    # The status machine refuses a hand-off from a state that cannot wait on a department.
    transition(
        session=session,
        ticket=ticket,
        request=TransitionRequest(to=TicketStatus.pending_department),
        actor=actor,
        now=now,
        kind=EventKind.handoff,
        extra={"department": department.code, "question": data.question, "due_at": due.isoformat()},
    )
    # Its members see the ticket through the department scope while they work on it.
    ticket.department_id = department.id
    session.add_all([ticket, handoff])
    session.flush()
    after_status_change(session=session, ticket=ticket, old=old, calendar=calendar, now=now)
    return handoff


def require_handoff(*, session: Session, ticket: Ticket, handoff_id: int) -> Handoff:
    handoff = session.get(Handoff, handoff_id)
    if handoff is None or handoff.ticket_id != ticket.id:
        raise NotFound(f"no hand-off {handoff_id} on ticket {ticket.number}")
    return handoff


def answer(
    *,
    session: Session,
    ticket: Ticket,
    handoff: Handoff,
    text: str,
    actor: str,
    calendar: BusinessCalendar,
    now: datetime,
) -> Handoff:
    """Record the department's answer; a ticket still waiting on it goes back to its owner
    (open, assignee unchanged)."""
    if handoff.answered_at is not None:
        raise Conflict(f"hand-off {handoff.id} was answered by {handoff.answered_by}")
    handoff.answer = text
    handoff.answered_by = actor
    handoff.answered_at = now
    session.add(handoff)
    data = {"handoff_id": handoff.id, "answer": text}
    if ticket.status == TicketStatus.pending_department and not _others_open(session, handoff):
        old = TicketStatus(ticket.status)
        transition(
            session=session,
            ticket=ticket,
            request=TransitionRequest(to=TicketStatus.open),
            actor=actor,
            now=now,
            kind=EventKind.handoff,
            extra=data,
        )
        after_status_change(session=session, ticket=ticket, old=old, calendar=calendar, now=now)
    else:
        append_event(
            session=session, ticket=ticket, kind=EventKind.handoff, at=now, actor=actor, data=data
        )
    session.flush()
    return handoff


def _others_open(session: Session, handoff: Handoff) -> bool:
    other = session.exec(
        select(Handoff.id)
        .where(Handoff.ticket_id == handoff.ticket_id, Handoff.id != handoff.id)
        .where(col(Handoff.answered_at).is_(None))
    ).first()
    return other is not None


def list_handoffs(
    *,
    session: Session,
    department_id: int | None,
    overdue: bool | None,
    answered: bool | None,
    limit: int,
    offset: int,
) -> list[HandoffPublic]:
    query = (
        select(Handoff, Ticket.number, Department.code)
        .join(Ticket, col(Ticket.id) == col(Handoff.ticket_id))
        .join(Department, col(Department.id) == col(Handoff.department_id))
    )
    if department_id is not None:
        query = query.where(Handoff.department_id == department_id)
    if overdue is not None:
        query = query.where(Handoff.overdue == overdue)
    if answered is True:
        query = query.where(col(Handoff.answered_at).is_not(None))
    elif answered is False:
        query = query.where(col(Handoff.answered_at).is_(None))
    rows = session.exec(
        query.order_by(col(Handoff.due_at), col(Handoff.id)).offset(offset).limit(limit)
    )
    return [public(handoff, number, code) for handoff, number, code in rows]


def public(handoff: Handoff, number: str, code: str) -> HandoffPublic:
    return HandoffPublic.model_validate(handoff, update={"ticket": number, "department": code})


def flag_overdue(*, session: Session, now: datetime, limit: int = 500) -> int:
    """Mark unanswered hand-offs past their due time, once each, on the ticket's timeline."""
    rows = list(
        session.exec(
            select(Handoff)
            .where(col(Handoff.answered_at).is_(None), col(Handoff.overdue).is_(False))
            .where(col(Handoff.due_at) < now)
            .order_by(col(Handoff.due_at))
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    flagged = 0
    for handoff in rows:
        handoff.overdue = True
        session.add(handoff)
        ticket = session.get(Ticket, handoff.ticket_id)
        assert ticket is not None
        department = session.get(Department, handoff.department_id)
        append_event(
            session=session,
            ticket=ticket,
            kind=EventKind.handoff,
            at=now,
            data={
                "handoff_id": handoff.id,
                "overdue": True,
                "department": department.code if department else None,
                "due_at": handoff.due_at.isoformat(),
            },
            actor="system",
        )
        flagged += 1
    session.flush()
    return flagged
