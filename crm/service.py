"""CRM logic: callers, tickets and the calls logged on them. No HTTP here."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from crm.models import (
    ACTIVE_STATUSES,
    Callback,
    CallDisposition,
    CallerProfile,
    CallLog,
    CallRecord,
    Customer,
    CustomerBase,
    CustomerPhone,
    Department,
    EventKind,
    Ticket,
    TicketCounter,
    TicketEvent,
    TicketStatus,
    TicketType,
)
from hotline.business_hours import BusinessCalendar
from hotline.phone import mask

log = logging.getLogger(__name__)

# --- customers -------------------------------------------------------------------------------


def create_customer(
    *, session: Session, data: CustomerBase, phones: list[str], now: datetime
) -> Customer:
    customer = Customer.model_validate(data, update={"created_at": now})
    session.add(customer)
    session.flush()
    assert customer.id is not None
    for number in phones:
        session.add(CustomerPhone(customer_id=customer.id, number=number))
    session.flush()
    return customer


def find_caller(*, session: Session, number: str) -> CallerProfile | None:
    """The customer who owns this E.164 number, if any."""
    row = session.exec(
        select(Customer.id, Customer.segment, Customer.preferred_language)
        .join(CustomerPhone, col(CustomerPhone.customer_id) == col(Customer.id))
        .where(CustomerPhone.number == number)
    ).first()
    if row is None:
        return None
    customer_id, segment, language = row
    assert customer_id is not None
    last_agent = session.exec(
        select(CallLog.agent_id)
        .join(Ticket, col(Ticket.id) == col(CallLog.ticket_id))
        .where(Ticket.customer_id == customer_id, col(CallLog.agent_id).is_not(None))
        .where(col(Ticket.status).in_([str(status) for status in ACTIVE_STATUSES]))
        .order_by(col(CallLog.started_at).desc())
        .limit(1)
    ).first()
    return CallerProfile(
        customer_id=customer_id,
        segment=segment,
        preferred_language=language,
        last_agent_id=last_agent,
    )


def count_customers(*, session: Session) -> int:
    return int(session.exec(select(func.count()).select_from(Customer)).one())


def create_department(*, session: Session, code: str, name_zh: str, name_en: str) -> Department:
    department = Department(code=code, name_zh=name_zh, name_en=name_en)
    session.add(department)
    session.flush()
    return department


# --- ticket numbers --------------------------------------------------------------------------


def get_department(*, session: Session, department_id: int) -> Department | None:
    return session.get(Department, department_id)


def next_ticket_number(*, session: Session, day: date) -> str:
    """`T20261128-0001`: a per-day sequence, safe with many writers (one upsert)."""
    key = day.strftime("%Y%m%d")
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(TicketCounter)
        .values(day=key, last=1)
        .on_conflict_do_update(index_elements=["day"], set_={"last": TicketCounter.last + 1})
        .returning(col(TicketCounter.last))
    )
    sequence = session.execute(statement).scalar_one()
    return f"T{key}-{sequence:04d}"


def parse_ticket_number(digits: str) -> str | None:
    """What a caller keys on the phone (`202611280001`) back into a ticket number."""
    if len(digits) < 9 or not digits.isdigit():
        return None
    return f"T{digits[:8]}-{digits[8:]}"


# --- tickets ---------------------------------------------------------------------------------


def _append(
    session: Session, ticket: Ticket, kind: EventKind, at: datetime, data: dict[str, Any]
) -> TicketEvent:
    assert ticket.id is not None
    event = TicketEvent(ticket_id=ticket.id, at=at, kind=kind, data=data)
    session.add(event)
    return event


def _open_ticket_for_repeat(
    session: Session, *, customer_id: int | None, phone: str | None, category: str, since: datetime
) -> Ticket | None:
    if customer_id is None and phone is None:
        return None
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


def disposition_of(record: CallRecord, *, has_voicemail: bool) -> CallDisposition:
    if has_voicemail:
        return CallDisposition.voicemail
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
    ticket, _created = ticket_for_call(
        session=session, record=record, zone_day=local_day, now=now, window_days=window_days
    )
    call = CallLog(
        call_sid=record.call_sid,
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


def commit_once(session: Session) -> bool:
    """Commit; False if a concurrent writer got there first (a unique key said so)."""
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        return False
    return True


# --- reading ---------------------------------------------------------------------------------


def caller_case_status(
    *, session: Session, ticket_number: str, caller_number: str | None
) -> TicketStatus | None:
    """The status of a case, told only to a number that belongs to its customer."""
    if caller_number is None:
        return None
    ticket = session.exec(select(Ticket).where(Ticket.number == ticket_number)).first()
    if ticket is None:
        return None
    if ticket.customer_id is not None:
        owner = session.exec(
            select(CustomerPhone.id).where(
                CustomerPhone.customer_id == ticket.customer_id,
                CustomerPhone.number == caller_number,
            )
        ).first()
        if owner is None:
            return None
    elif ticket.contact_phone != caller_number:
        return None
    return TicketStatus(ticket.status)


def get_ticket(*, session: Session, number: str) -> Ticket | None:
    return session.exec(select(Ticket).where(Ticket.number == number)).first()


def timeline(*, session: Session, ticket_id: int) -> list[TicketEvent]:
    return list(
        session.exec(
            select(TicketEvent)
            .where(TicketEvent.ticket_id == ticket_id)
            .order_by(col(TicketEvent.at), col(TicketEvent.id))
        )
    )


def list_tickets(
    *,
    session: Session,
    status: TicketStatus | None = None,
    customer_id: int | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[Ticket]:
    query = select(Ticket)
    if status is not None:
        query = query.where(Ticket.status == status)
    if customer_id is not None:
        query = query.where(Ticket.customer_id == customer_id)
    query = query.order_by(col(Ticket.last_contact_at).desc(), col(Ticket.id).desc())
    return list(session.exec(query.offset(offset).limit(limit)))


def get_call_log(*, session: Session, call_sid: str) -> CallLog | None:
    return session.exec(select(CallLog).where(CallLog.call_sid == call_sid)).first()


def calls_of_ticket(*, session: Session, ticket_id: int) -> list[CallLog]:
    return list(
        session.exec(
            select(CallLog).where(CallLog.ticket_id == ticket_id).order_by(col(CallLog.started_at))
        )
    )


def callbacks_due(*, session: Session, before: datetime) -> list[Callback]:
    return list(
        session.exec(
            select(Callback)
            .where(Callback.status == "due", col(Callback.due_at) <= before)
            .order_by(col(Callback.due_at))
        )
    )
