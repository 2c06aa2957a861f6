"""Calls onto tickets: the call log, the repeat contact, the callback owed after hours."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlmodel import Session, col, select

from crm import case_hooks
from crm.models import (
    ACTIVE_STATUSES,
    Callback,
    CallDisposition,
    CallLog,
    CallRecord,
    EventKind,
    Ticket,
    TicketEvent,
    TicketType,
)
from crm.numbers import next_ticket_number
from hotline.business_hours import BusinessCalendar
from hotline.phone import mask

log = logging.getLogger(__name__)


def _append(
    session: Session, ticket: Ticket, kind: EventKind, at: datetime, data: dict[str, Any]
) -> TicketEvent:
    assert ticket.id is not None
    event = TicketEvent(ticket_id=ticket.id, at=at, kind=kind, data=data)
    session.add(event)
    return event


# Held to the end of the transaction; hashtext folds the key into the lock's number space.
_OWNER_LOCK = text("SELECT pg_advisory_xact_lock(hashtext(:key))")


def _lock_owner(session: Session, key: str) -> None:
    """One writer at a time per caller and category, so two of their calls logged at once (the
    call logger and a virtual-hold key press, say) find one ticket rather than open two: FOR
    UPDATE locks only a ticket that is there already. SQLite has one writer at a time anyway."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(_OWNER_LOCK, {"key": key})


def _open_ticket_for_repeat(
    session: Session, *, customer_id: int | None, phone: str | None, category: str, since: datetime
) -> Ticket | None:
    if customer_id is None and phone is None:
        return None
    _lock_owner(session, f"ticket:{customer_id or phone}:{category}")
    owner = (
        col(Ticket.customer_id) == customer_id
        if customer_id is not None
        else col(Ticket.contact_phone) == phone
    )
    return session.exec(
        select(Ticket)
        .where(owner, Ticket.category == category)
        .where(col(Ticket.status).in_([str(status) for status in ACTIVE_STATUSES]))
        .where(col(Ticket.last_contact_at) >= since)
        .order_by(col(Ticket.last_contact_at).desc())
        .limit(1)
        .with_for_update()
    ).first()


def ticket_for_call(
    *, session: Session, record: CallRecord, zone_day: date, now: datetime, window_days: int
) -> tuple[Ticket, bool]:
    """The caller's open ticket of this category (a repeat contact), else a new one."""
    ticket = _open_ticket_for_repeat(
        session,
        customer_id=record.customer_id,
        phone=record.from_number,
        category=record.category,
        since=now - timedelta(days=window_days),
    )
    if ticket is not None:
        ticket.repeat_count += 1
        ticket.last_contact_at = now
        ticket.updated_at = now
        if record.priority is not None:
            ticket.priority = min(ticket.priority, record.priority)
        session.add(ticket)
        return ticket, False
    ticket = Ticket(
        number=next_ticket_number(session=session, day=zone_day),
        customer_id=record.customer_id,
        contact_phone=record.from_number if record.customer_id is None else None,
        category=record.category,
        ticket_type=TicketType.complaint if record.complaint else TicketType.inquiry,
        complaint=record.complaint,
        priority=record.priority or 3,
        subject=record.subject,
        # The agent who answered owns the case they opened until someone reassigns it.
        assignee_id=record.agent_id,
        created_at=now,
        updated_at=now,
        last_contact_at=now,
    )
    session.add(ticket)
    session.flush()
    _append(
        session, ticket, EventKind.created, now, {"channel": "phone", "call_sid": record.call_sid}
    )
    return ticket, True


def _ticket_of_hold(
    session: Session,
    record: CallRecord,
    calendar: BusinessCalendar,
    *,
    now: datetime,
    window_days: int,
) -> Ticket | None:
    """A call of a virtual hold goes onto the hold's ticket; the caller's own call puts the hold
    on record first if the key press could not (the database was away then)."""
    if record.virtual_hold is None:
        return None
    from crm import virtual_holds  # it builds on this module

    if record.virtual_hold == record.call_sid:
        virtual_holds.record_hold(
            session=session, record=record, calendar=calendar, now=now, window_days=window_days
        )
    return virtual_holds.ticket_of_hold(session, record.virtual_hold)


def disposition_of(record: CallRecord, *, has_voicemail: bool) -> CallDisposition:
    if has_voicemail:
        return CallDisposition.voicemail
    if record.virtual_hold == record.call_sid and record.answered_at is None:
        return CallDisposition.virtual_hold
    if record.after_hours and record.queue_entered_at is None:
        return CallDisposition.after_hours
    if record.queue_entered_at is not None:
        return CallDisposition.answered if record.answered_at else CallDisposition.abandoned
    if record.self_service:
        return CallDisposition.self_service
    return CallDisposition.completed_in_ivr


def _call_event_data(call: CallLog, ticket: Ticket, wait: float | None) -> dict[str, Any]:
    return {
        "call_sid": call.call_sid,
        "direction": call.direction,
        "from": mask(call.from_number),
        "language": call.language,
        "ivr_path": call.ivr_path,
        "route": call.route,
        "skill": call.skill,
        "priority": call.priority,
        "disposition": str(call.disposition),
        "started_at": call.started_at.isoformat(),
        "ended_at": call.ended_at.isoformat() if call.ended_at else None,
        "duration_seconds": call.duration_seconds,
        "queue_wait_seconds": wait,
        "repeat_contact": ticket.repeat_count > 0,
    }


def log_call(
    *,
    session: Session,
    record: CallRecord,
    calendar: BusinessCalendar,
    now: datetime,
    window_days: int,
    has_recording: bool = False,
) -> CallLog:
    """Write a finished call to its call log and ticket, once: a repeat returns the first log."""
    existing = session.exec(select(CallLog).where(CallLog.call_sid == record.call_sid)).first()
    if existing is not None:
        return existing
    has_voicemail = has_recording or record.voicemail_recording_sid is not None
    disposition = disposition_of(record, has_voicemail=has_voicemail)
    local_day = record.started_at.astimezone(calendar.zone).date()
    ticket = _ticket_of_hold(session, record, calendar, now=now, window_days=window_days)
    if ticket is None:
        ticket, _created = ticket_for_call(
            session=session, record=record, zone_day=local_day, now=now, window_days=window_days
        )
    call = CallLog(
        call_sid=record.call_sid,
        direction="outbound" if record.virtual_hold not in (None, record.call_sid) else "inbound",
        from_number=record.from_number,
        to_number=record.to_number,
        customer_id=record.customer_id,
        ticket_id=ticket.id,
        agent_id=record.agent_id,
        language=record.language,
        ivr_path=record.ivr_path,
        route=record.route,
        skill=record.skill,
        priority=record.priority,
        category=record.category,
        after_hours=record.after_hours,
        started_at=record.started_at,
        queue_entered_at=record.queue_entered_at,
        answered_at=record.answered_at,
        ended_at=record.ended_at,
        duration_seconds=record.duration_seconds,
        disposition=disposition,
        twilio_status=record.twilio_status,
        queue_result=record.queue_result,
    )
    session.add(call)
    wait = None
    if record.queue_entered_at is not None:
        until = record.answered_at or record.ended_at
        wait = round(max((until - record.queue_entered_at).total_seconds(), 0.0), 1)
    _append(session, ticket, EventKind.call, record.ended_at, _call_event_data(call, ticket, wait))
    if disposition in (CallDisposition.voicemail, CallDisposition.after_hours):
        _owe_callback(session, ticket, record, calendar, reason=str(disposition))
    session.flush()
    case_hooks.after_call_logged(
        session=session, ticket=ticket, call=call, calendar=calendar, now=now
    )
    log.info("call %s logged on %s (%s)", record.call_sid, ticket.number, disposition)
    return call


def _owe_callback(
    session: Session,
    ticket: Ticket,
    record: CallRecord,
    calendar: BusinessCalendar,
    *,
    reason: str,
) -> None:
    if record.from_number is None:
        return  # an anonymous caller cannot be called back
    assert ticket.id is not None
    due = calendar.next_opening(record.ended_at)
    session.add(
        Callback(
            ticket_id=ticket.id,
            customer_id=record.customer_id,
            phone=record.from_number,
            due_at=due,
            reason=reason,
            origin_call_sid=record.call_sid,
            created_at=record.ended_at,
        )
    )
    _append(
        session,
        ticket,
        EventKind.callback_scheduled,
        record.ended_at,
        {"due_at": due.isoformat(), "reason": reason, "call_sid": record.call_sid},
    )


def attach_voicemail(*, session: Session, call_sid: str, recording_id: int, now: datetime) -> bool:
    """A voicemail recording that arrived after its call was logged: show it on the ticket."""
    call = session.exec(select(CallLog).where(CallLog.call_sid == call_sid)).first()
    if call is None or call.ticket_id is None:
        return False  # logged later; log_call will see the recording then
    ticket = session.get(Ticket, call.ticket_id)
    assert ticket is not None
    if call.disposition == CallDisposition.after_hours:
        call.disposition = CallDisposition.voicemail
        session.add(call)
        callback = session.exec(
            select(Callback).where(Callback.origin_call_sid == call_sid)
        ).first()
        if callback is not None:
            callback.reason = str(CallDisposition.voicemail)
            session.add(callback)
    _append(
        session,
        ticket,
        EventKind.voicemail,
        now,
        {"call_sid": call_sid, "recording_id": recording_id},
    )
    return True
