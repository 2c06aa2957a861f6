"""Ticket lifecycle: opening by hand, field changes, notes, status moves, merges, links and
call wrap-ups. Every change appends to the timeline with who and when; nothing here edits or
deletes a timeline event."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlmodel import Session, col, or_, select

from crm import aftercare, ticket_status
from crm.categories import load_config, require_category
from crm.models import (
    CallLog,
    Customer,
    Department,
    EventKind,
    Ticket,
    TicketCreate,
    TicketDetail,
    TicketEvent,
    TicketEventPublic,
    TicketLink,
    TicketStatus,
    TicketType,
    TicketUpdate,
    TransitionRequest,
)
from crm.numbers import next_ticket_number
from hotline.errors import Conflict, Invalid


def append_event(
    *,
    session: Session,
    ticket: Ticket,
    kind: EventKind,
    at: datetime,
    actor: str,
    data: dict[str, Any],
    internal: bool = True,
) -> TicketEvent:
    """The only way onto a timeline: events are added, never changed."""
    assert ticket.id is not None
    event = TicketEvent(
        ticket_id=ticket.id, at=at, kind=kind, actor=actor, internal=internal, data=data
    )
    session.add(event)
    session.flush()
    return event


def _check_department(session: Session, department_id: int | None) -> None:
    if department_id is not None and session.get(Department, department_id) is None:
        raise Invalid(f"no department {department_id}")


def create_ticket(
    *,
    session: Session,
    data: TicketCreate,
    actor: str,
    agent_id: int | None,
    now: datetime,
    local_day: date,
) -> Ticket:
    require_category(session=session, code=data.category)
    _check_department(session, data.department_id)
    if data.customer_id is not None and session.get(Customer, data.customer_id) is None:
        raise Invalid(f"no customer {data.customer_id}")
    values = data.model_dump()
    values["assignee_id"] = data.assignee_id or agent_id
    values["complaint"] = data.complaint or data.ticket_type is TicketType.complaint
    ticket = Ticket(
        **values,
        number=next_ticket_number(session=session, day=local_day),
        created_at=now,
        updated_at=now,
        last_contact_at=now,
    )
    session.add(ticket)
    session.flush()
    append_event(
        session=session,
        ticket=ticket,
        kind=EventKind.created,
        at=now,
        actor=actor,
        data={"channel": str(ticket.channel), "by_hand": True},
    )
    return ticket


def update_ticket(
    *, session: Session, ticket: Ticket, data: TicketUpdate, actor: str, now: datetime
) -> list[dict[str, Any]]:
    """Apply the fields sent; one field_change event per field that really changed."""
    changes = data.model_dump(exclude_unset=True)
    if "category" in changes:
        require_category(session=session, code=changes["category"])
    if "department_id" in changes:
        _check_department(session, changes["department_id"])
    made: list[dict[str, Any]] = []
    for name, new in changes.items():
        old = getattr(ticket, name)
        if new is None or old == new:
            continue
        setattr(ticket, name, new)
        change = {"field": name, "old": _plain(old), "new": _plain(new)}
        made.append(change)
        append_event(
            session=session,
            ticket=ticket,
            kind=EventKind.field_change,
            at=now,
            actor=actor,
            data=change,
        )
    if "ticket_type" in changes and changes["ticket_type"] is TicketType.complaint:
        ticket.complaint = True
    if made:
        ticket.updated_at = now
        session.add(ticket)
        session.flush()
    return made


def _plain(value: Any) -> Any:
    return str(value) if isinstance(value, TicketType | TicketStatus) else value


def add_note(
    *, session: Session, ticket: Ticket, text: str, internal: bool, actor: str, now: datetime
) -> TicketEvent:
    ticket.updated_at = now
    session.add(ticket)
    return append_event(
        session=session,
        ticket=ticket,
        kind=EventKind.note,
        at=now,
        actor=actor,
        data={"text": text},
        internal=internal,
    )


def transition(
    *,
    session: Session,
    ticket: Ticket,
    request: TransitionRequest,
    actor: str,
    now: datetime,
    kind: EventKind = EventKind.status_change,
    extra: dict[str, Any] | None = None,
) -> TicketEvent:
    """Move the ticket's status as crm/ticket_status.py allows; hand-offs and escalations
    call this with their own event kind and data."""
    current = TicketStatus(ticket.status)
    ticket_status.check_transition(
        current,
        request.to,
        resolution_code=request.resolution_code,
        summary=request.summary,
        resolution_codes=load_config().resolution_codes,
    )
    data: dict[str, Any] = {"old": str(current), "new": str(request.to)}
    if request.reason:
        data["reason"] = request.reason
    if request.to is TicketStatus.resolved:
        ticket.resolution_code = request.resolution_code
        ticket.resolution_summary = request.summary
        ticket.resolved_at = now
        data["resolution_code"] = request.resolution_code
        data["summary"] = request.summary
    elif ticket_status.is_reopen(current, request.to):
        data["reopen"] = True
        data["previous_resolution_code"] = ticket.resolution_code
        ticket.resolution_code = None
        ticket.resolution_summary = None
        ticket.resolved_at = None
    data.update(extra or {})
    ticket.status = request.to
    ticket.updated_at = now
    session.add(ticket)
    event = append_event(session=session, ticket=ticket, kind=kind, at=now, actor=actor, data=data)
    assert ticket.id is not None
    if request.to is TicketStatus.resolved:
        aftercare.ticket_resolved(session=session, ticket_id=ticket.id, now=now)
    elif ticket_status.is_reopen(current, request.to):
        aftercare.ticket_reopened(session=session, ticket_id=ticket.id, now=now)
    return event


def merge_tickets(
    *, session: Session, source: Ticket, target: Ticket, actor: str, now: datetime
) -> None:
    """The source closes and points to the target; both timelines say so."""
    if source.id == target.id:
        raise Conflict("a ticket cannot be merged into itself", allowed=[])
    ticket_status.check_mergeable(TicketStatus(source.status))
    if target.status == TicketStatus.closed or target.merged_into_id is not None:
        raise Conflict(f"ticket {target.number} is closed; merge into an active ticket")
    old = str(source.status)
    source.status = TicketStatus.closed
    source.merged_into_id = target.id
    source.updated_at = now
    target.repeat_count += source.repeat_count + 1
    target.updated_at = now
    session.add_all([source, target])
    append_event(
        session=session,
        ticket=source,
        kind=EventKind.merged,
        at=now,
        actor=actor,
        data={"into": target.number, "old": old, "new": str(TicketStatus.closed)},
    )
    append_event(
        session=session,
        ticket=target,
        kind=EventKind.merged,
        at=now,
        actor=actor,
        data={"from": source.number},
    )


def link_tickets(
    *, session: Session, ticket: Ticket, other: Ticket, actor: str, now: datetime
) -> None:
    if ticket.id == other.id:
        raise Conflict("a ticket cannot be linked to itself")
    assert ticket.id is not None and other.id is not None
    low, high = sorted((ticket.id, other.id))
    exists = session.exec(
        select(TicketLink.id).where(TicketLink.ticket_id == low, TicketLink.other_id == high)
    ).first()
    if exists is not None:
        raise Conflict(f"{ticket.number} and {other.number} are already linked")
    session.add(TicketLink(ticket_id=low, other_id=high, created_at=now, actor=actor))
    for one, two in ((ticket, other), (other, ticket)):
        append_event(
            session=session,
            ticket=one,
            kind=EventKind.linked,
            at=now,
            actor=actor,
            data={"number": two.number},
        )


def detail(*, session: Session, ticket: Ticket) -> TicketDetail:
    assert ticket.id is not None
    events = session.exec(
        select(TicketEvent)
        .where(TicketEvent.ticket_id == ticket.id)
        .order_by(col(TicketEvent.at), col(TicketEvent.id))
    )
    link_rows = session.exec(
        select(TicketLink).where(
            or_(col(TicketLink.ticket_id) == ticket.id, col(TicketLink.other_id) == ticket.id)
        )
    )
    other_ids = [row.other_id if row.ticket_id == ticket.id else row.ticket_id for row in link_rows]
    links = (
        list(session.exec(select(Ticket.number).where(col(Ticket.id).in_(other_ids))))
        if other_ids
        else []
    )
    merged_into = None
    if ticket.merged_into_id is not None:
        target = session.get(Ticket, ticket.merged_into_id)
        merged_into = target.number if target is not None else None
    return TicketDetail.model_validate(
        ticket,
        update={
            "timeline": [TicketEventPublic.model_validate(event) for event in events],
            "links": sorted(links),
            "merged_into": merged_into,
        },
    )


def wrap_up_call(
    *, session: Session, call: CallLog, code: str, note: str | None, actor: str, now: datetime
) -> CallLog:
    """The agent's wrap-up code (and note) on the call log and the ticket's timeline, once."""
    if code not in load_config().wrap_up_codes:
        raise Invalid(
            f"unknown wrap-up code {code!r}", wrap_up_codes=sorted(load_config().wrap_up_codes)
        )
    if call.wrapup_code is not None:
        raise Conflict(f"call {call.call_sid} is already wrapped up ({call.wrapup_code})")
    call.wrapup_code = code
    call.wrapup_note = note
    call.wrapped_up_at = now
    session.add(call)
    if call.ticket_id is not None:
        ticket = session.get(Ticket, call.ticket_id)
        assert ticket is not None
        data: dict[str, Any] = {"call_sid": call.call_sid, "code": code}
        if note:
            data["note"] = note
        append_event(
            session=session, ticket=ticket, kind=EventKind.wrap_up, at=now, actor=actor, data=data
        )
    session.flush()
    return call
