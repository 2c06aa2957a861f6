"""Complaint extensions: the regulator lets a complaint's decision wait longer (15 days to 30,
then a further 30) when a supervisor approves; each request and approval is on the timeline
with who asked and who approved."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from crm import sla
from crm.case_models import SlaExtension, SlaExtensionPublic
from crm.models import ACTIVE_STATUSES, EventKind, Ticket, TicketType
from crm.tickets import append_event
from hotline.business_hours import BusinessCalendar
from hotline.errors import Conflict, Invalid, NotFound


def request_extension(
    *, session: Session, ticket: Ticket, days: int, reason: str, actor: str, now: datetime
) -> SlaExtension:
    rules = sla.load_policy().for_type(TicketType(ticket.ticket_type))
    if not rules.extension_days:
        raise Conflict(f"a {ticket.ticket_type} ticket's clock cannot be extended")
    if days not in rules.extension_days:
        raise Invalid(f"days: one of {rules.extension_days}", allowed=rules.extension_days)
    if ticket.status not in [str(status) for status in ACTIVE_STATUSES]:
        raise Conflict(f"a ticket that is {ticket.status} needs no extension")
    assert ticket.id is not None
    extensions = list(session.exec(select(SlaExtension).where(SlaExtension.ticket_id == ticket.id)))
    if any(extension.approved_at is None for extension in extensions):
        raise Conflict("an extension is already waiting for approval")
    granted = sum(extension.days for extension in extensions)
    if granted + days > rules.max_extension_days:
        raise Conflict(
            f"{granted} days granted already; at most {rules.max_extension_days} in all",
            granted_days=granted,
        )
    extension = SlaExtension(
        ticket_id=ticket.id, days=days, reason=reason, requested_by=actor, requested_at=now
    )
    session.add(extension)
    session.flush()
    append_event(
        session=session,
        ticket=ticket,
        kind=EventKind.sla_extension,
        at=now,
        actor=actor,
        data={"extension_id": extension.id, "days": days, "reason": reason, "requested": True},
    )
    return extension


def approve_extension(
    *,
    session: Session,
    ticket: Ticket,
    extension_id: int,
    actor: str,
    calendar: BusinessCalendar,
    now: datetime,
) -> SlaExtension:
    """The approver is recorded; the resolution clock moves by the days granted."""
    extension = session.get(SlaExtension, extension_id)
    if extension is None or extension.ticket_id != ticket.id:
        raise NotFound(f"no extension {extension_id} on ticket {ticket.number}")
    if extension.approved_at is not None:
        raise Conflict(f"extension {extension_id} was approved by {extension.approved_by}")
    extension.approved_by = actor
    extension.approved_at = now
    session.add(extension)
    state = sla.clock_state(session=session, ticket=ticket)
    if state is None:
        state = sla.set_due_times(
            session=session, ticket=ticket, calendar=calendar, policy=sla.load_policy()
        )
    state.extension_days += extension.days
    sla.set_due_times(session=session, ticket=ticket, calendar=calendar, policy=sla.load_policy())
    append_event(
        session=session,
        ticket=ticket,
        kind=EventKind.sla_extension,
        at=now,
        actor=actor,
        data={
            "extension_id": extension.id,
            "days": extension.days,
            "approved": True,
            "resolution_due_at": ticket.resolution_due_at.isoformat()
            if ticket.resolution_due_at
            else None,
        },
    )
    return extension


def extensions_of(*, session: Session, ticket: Ticket) -> list[SlaExtensionPublic]:
    rows = session.exec(
        select(SlaExtension)
        .where(SlaExtension.ticket_id == ticket.id)
        .order_by(col(SlaExtension.id))
    )
    return [public(extension, ticket) for extension in rows]


def public(extension: SlaExtension, ticket: Ticket) -> SlaExtensionPublic:
    return SlaExtensionPublic.model_validate(
        extension, update={"ticket": ticket.number, "resolution_due_at": ticket.resolution_due_at}
    )
