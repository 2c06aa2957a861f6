"""Escalation to management: raised by an agent or by a trigger (SLA breach, a severe
complaint, the third contact on one ticket, a low survey score), each with its background
pack. The same trigger never escalates a ticket twice while an escalation of it is open."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from crm import sla, tickets
from crm.case_models import Escalation, EscalationTrigger
from crm.escalation_pack import build_pack
from crm.models import ACTIVE_STATUSES, EventKind, Ticket, TicketStatus, TransitionRequest
from crm.ticket_status import REOPEN_FROM
from hotline.business_hours import BusinessCalendar
from hotline.errors import Conflict, NotFound

# The third contact on one ticket: the first call plus two repeats.
REPEAT_CONTACTS_TO_ESCALATE = 2


def _calendar(calendar: BusinessCalendar | None) -> BusinessCalendar:
    if calendar is not None:
        return calendar
    # Callers outside a request (the survey side) run in a process whose services are built.
    from hotline.jobs import services

    return services().calendar


def open_escalation(
    *, session: Session, ticket_id: int, trigger: EscalationTrigger
) -> Escalation | None:
    return session.exec(
        select(Escalation)
        .where(Escalation.ticket_id == ticket_id, Escalation.trigger == trigger)
        .where(col(Escalation.closed_at).is_(None))
        .order_by(col(Escalation.id))
    ).first()


def escalate(
    *,
    session: Session,
    ticket_id: int,
    reason: str,
    trigger: EscalationTrigger,
    actor: str,
    now: datetime,
    calendar: BusinessCalendar | None = None,
) -> tuple[Escalation, bool]:
    """Escalate the ticket (status → escalated) with a fresh background pack; the open
    escalation of this trigger, and False, if there is one already.

    An automatic trigger on a resolved or closed ticket (a low survey score) reopens it
    first; an agent escalating such a ticket gets the status machine's 409."""
    ticket = session.exec(select(Ticket).where(Ticket.id == ticket_id).with_for_update()).first()
    if ticket is None:
        raise NotFound(f"no ticket {ticket_id}")
    existing = open_escalation(session=session, ticket_id=ticket_id, trigger=trigger)
    if existing is not None:
        return existing, False
    current = TicketStatus(ticket.status)
    if current in REOPEN_FROM and trigger is not EscalationTrigger.manual:
        _move(session, ticket, TicketStatus.open, actor, now, calendar, reason=reason)
        current = TicketStatus.open
    if current is not TicketStatus.escalated:
        _move(
            session,
            ticket,
            TicketStatus.escalated,
            actor,
            now,
            calendar,
            reason=reason,
            kind=EventKind.escalation,
            extra={"trigger": str(trigger)},
        )
    else:
        tickets.append_event(
            session=session,
            ticket=ticket,
            kind=EventKind.escalation,
            at=now,
            actor=actor,
            data={"trigger": str(trigger), "reason": reason},
        )
    escalation = Escalation(
        ticket_id=ticket_id,
        trigger=trigger,
        reason=reason,
        raised_by=actor,
        raised_at=now,
        pack=build_pack(session=session, ticket=ticket),
    )
    session.add(escalation)
    session.flush()
    return escalation, True


def _move(
    session: Session,
    ticket: Ticket,
    to: TicketStatus,
    actor: str,
    now: datetime,
    calendar: BusinessCalendar | None,
    *,
    reason: str,
    kind: EventKind = EventKind.status_change,
    extra: dict[str, str] | None = None,
) -> None:
    old = TicketStatus(ticket.status)
    tickets.transition(
        session=session,
        ticket=ticket,
        request=TransitionRequest(to=to, reason=reason),
        actor=actor,
        now=now,
        kind=kind,
        extra=extra,
    )
    after_status_change(
        session=session, ticket=ticket, old=old, calendar=_calendar(calendar), now=now
    )


def after_status_change(
    *,
    session: Session,
    ticket: Ticket,
    old: TicketStatus,
    calendar: BusinessCalendar,
    now: datetime,
) -> None:
    """What follows any status move: the SLA clocks pause or resume; a resolved or closed
    ticket closes its escalations."""
    sla.on_status_change(session=session, ticket=ticket, old=old, calendar=calendar, now=now)
    if ticket.status in (TicketStatus.resolved, TicketStatus.closed):
        for escalation in session.exec(
            select(Escalation)
            .where(Escalation.ticket_id == ticket.id)
            .where(col(Escalation.closed_at).is_(None))
        ):
            escalation.closed_at = now
            session.add(escalation)
        session.flush()


def escalate_by_rules(
    *,
    session: Session,
    ticket: Ticket,
    calendar: BusinessCalendar,
    severity_threshold: int | None,
    now: datetime,
) -> list[Escalation]:
    """The automatic triggers a ticket's fields can set off: a severe complaint, a third
    contact. Each escalates at most once while its escalation is open."""
    if ticket.status not in [str(status) for status in ACTIVE_STATUSES] or ticket.merged_into_id:
        return []
    assert ticket.id is not None
    raised = []
    if (
        severity_threshold is not None
        and ticket.complaint
        and ticket.severity >= severity_threshold
    ):
        escalation, new = escalate(
            session=session,
            ticket_id=ticket.id,
            reason=f"complaint of severity {ticket.severity}",
            trigger=EscalationTrigger.severity,
            actor="system",
            now=now,
            calendar=calendar,
        )
        if new:
            raised.append(escalation)
    if ticket.repeat_count >= REPEAT_CONTACTS_TO_ESCALATE:
        escalation, new = escalate(
            session=session,
            ticket_id=ticket.id,
            reason=f"contact number {ticket.repeat_count + 1} on this ticket",
            trigger=EscalationTrigger.repeat_contact,
            actor="system",
            now=now,
            calendar=calendar,
        )
        if new:
            raised.append(escalation)
    return raised


def list_escalations(
    *, session: Session, only_open: bool | None, limit: int, offset: int
) -> list[tuple[Escalation, str]]:
    query = select(Escalation, Ticket.number).join(
        Ticket, col(Ticket.id) == col(Escalation.ticket_id)
    )
    if only_open is True:
        query = query.where(col(Escalation.closed_at).is_(None))
    elif only_open is False:
        query = query.where(col(Escalation.closed_at).is_not(None))
    rows = session.exec(
        query.order_by(col(Escalation.raised_at).desc(), col(Escalation.id).desc())
        .offset(offset)
        .limit(limit)
    )
    return [(escalation, number) for escalation, number in rows]


def require_escalation(*, session: Session, escalation_id: int) -> tuple[Escalation, str]:
    row = session.exec(
        select(Escalation, Ticket.number)
        .join(Ticket, col(Ticket.id) == col(Escalation.ticket_id))
        .where(Escalation.id == escalation_id)
    ).first()
    if row is None:
        raise NotFound(f"no escalation {escalation_id}")
    return row[0], row[1]


def acknowledge(
    *, session: Session, escalation: Escalation, actor: str, now: datetime
) -> Escalation:
    """A manager takes the escalation on, once; the ticket's timeline says who."""
    if escalation.acknowledged_at is not None:
        raise Conflict(
            f"escalation {escalation.id} was acknowledged by {escalation.acknowledged_by}"
        )
    escalation.acknowledged_by = actor
    escalation.acknowledged_at = now
    session.add(escalation)
    ticket = session.get(Ticket, escalation.ticket_id)
    assert ticket is not None
    tickets.append_event(
        session=session,
        ticket=ticket,
        kind=EventKind.escalation,
        at=now,
        actor=actor,
        data={"escalation_id": escalation.id, "acknowledged": True},
    )
    return escalation
