"""CRM logic: callers, tickets and the calls logged on them. No HTTP here."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from crm import (
    call_logging,
    callback_jobs,
    callback_reading,
    callback_results,
    callbacks,
    numbers,
    screen_pop,
    virtual_holds,
)
from crm.models import (
    ACTIVE_STATUSES,
    CallerProfile,
    CallLog,
    Customer,
    CustomerBase,
    CustomerPhone,
    Department,
    EventKind,
    Ticket,
    TicketEvent,
    TicketStatus,
)

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


def get_department(*, session: Session, department_id: int) -> Department | None:
    return session.get(Department, department_id)


# --- calls on tickets: crm/call_logging.py; numbers: crm/numbers.py --------------------------

# Other domains reach the CRM through this module only.
log_call = call_logging.log_call
attach_voicemail = call_logging.attach_voicemail
disposition_of = call_logging.disposition_of
ticket_for_call = call_logging.ticket_for_call
next_ticket_number = numbers.next_ticket_number
parse_ticket_number = numbers.parse_ticket_number
# What an agent sees of the caller on their line: crm/screen_pop.py.
get_customer = screen_pop.get_customer
open_tickets_of = screen_pop.open_tickets_of
latest_events = screen_pop.latest_events


def add_timeline_event(
    *,
    session: Session,
    ticket_id: int,
    kind: EventKind,
    at: datetime,
    data: dict[str, Any],
    actor: str = "system",
) -> TicketEvent:
    """Append one event to a ticket's timeline (other domains' events: recordings...)."""
    event = TicketEvent(ticket_id=ticket_id, at=at, kind=kind, actor=actor, data=data)
    session.add(event)
    session.flush()
    return event


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


# Callbacks placed as outbound calls: crm/callbacks.py, crm/callback_results.py, jobs in
# crm/callback_jobs.py. Other domains reach them through these names.
CallbackPolicy = callbacks.CallbackPolicy
CallbackCall = callback_reading.CallbackCall
CALLBACK_ANSWERED, CALLBACK_DIALING = callbacks.ANSWERED, callbacks.DIALING
# AnsweredBy values of answering machine detection that mean nobody is there.
CALLBACK_MACHINE_ANSWERS = callback_results.MACHINE_ANSWERS
schedule_followup = callbacks.schedule_followup
cancel_callbacks = callbacks.cancel_callbacks
callback_figures = callback_reading.callback_figures
callback_call_context = callback_reading.call_context
callback_answered = callback_results.answered
callback_choose = callback_results.choose
callback_call_seen = callback_results.note_call_seen
callback_call_ended = callback_results.call_ended
schedule_callback_placement = callback_jobs.schedule_placement
# Virtual hold (crm/virtual_holds.py): the callback a waiting caller chose, keeping their place.
record_hold = virtual_holds.record_hold
hold_placed = virtual_holds.placed
hold_answered = virtual_holds.answered
hold_attempt_failed = virtual_holds.attempt_failed
