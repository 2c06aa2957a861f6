"""Tickets from calls: numbering, repeat contacts, and who may hear a case's status."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from crm import service
from crm.models import CallDisposition, CallRecord, CustomerBase, TicketStatus
from hotline.business_hours import parse_calendar
from hotline.db import session_scope

CALENDAR = parse_calendar("mon-fri 08:00-20:00", timezone="Asia/Shanghai")
NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


def record(call_sid: str, **overrides: object) -> CallRecord:
    values: dict[str, object] = {
        "call_sid": call_sid,
        "from_number": "+8613612345678",
        "to_number": "+864008895555",
        "customer_id": None,
        "language": "zh",
        "ivr_path": [],
        "category": "accounts",
        "subject": "账户与转账 / Accounts and transfers",
        "started_at": NOW,
        "ended_at": NOW + timedelta(minutes=2),
    }
    values.update(overrides)
    return CallRecord.model_validate(values)


def test_ticket_numbers_run_per_bank_day(session: Session) -> None:
    day = date(2026, 11, 28)
    numbers = [service.next_ticket_number(session=session, day=day) for _ in range(3)]
    assert numbers == ["T20261128-0001", "T20261128-0002", "T20261128-0003"]
    assert service.next_ticket_number(session=session, day=date(2026, 11, 29)) == "T20261129-0001"


def test_concurrent_writers_never_share_a_ticket_number(engine: Engine) -> None:
    def take(_: int) -> str:
        with session_scope(engine) as session:
            return service.next_ticket_number(session=session, day=date(2026, 11, 28))

    workers = 4 if engine.dialect.name == "postgresql" else 1  # SQLite has one writer anyway
    with ThreadPoolExecutor(workers) as pool:
        numbers = list(pool.map(take, range(40)))
    assert len(set(numbers)) == 40


def test_two_calls_of_one_new_caller_logged_at_once_share_a_ticket(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time")
    first_in = threading.Event()

    def log(call_sid: str, hold: float) -> int | None:
        with session_scope(engine) as session:
            call = service.log_call(
                session=session, record=record(call_sid), calendar=CALENDAR, now=NOW, window_days=7
            )
            if hold:
                first_in.set()
                time.sleep(hold)  # the new ticket stays uncommitted while the other call logs
            return call.ticket_id

    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(log, "CA1", 0.5)
        assert first_in.wait(5)
        second = pool.submit(log, "CA2", 0)
        assert first.result(10) == second.result(10)


def test_keyed_case_numbers_parse_back() -> None:
    assert service.parse_ticket_number("202611280001") == "T20261128-0001"
    assert service.parse_ticket_number("2026") is None
    assert service.parse_ticket_number("20261128abcd") is None


def test_log_call_is_idempotent(session: Session) -> None:
    first = service.log_call(
        session=session, record=record("CA1"), calendar=CALENDAR, now=NOW, window_days=7
    )
    again = service.log_call(
        session=session, record=record("CA1"), calendar=CALENDAR, now=NOW, window_days=7
    )
    assert first.id == again.id


def test_repeat_contact_window_expires(session: Session) -> None:
    first = service.log_call(
        session=session, record=record("CA1"), calendar=CALENDAR, now=NOW, window_days=7
    )
    within = service.log_call(
        session=session,
        record=record("CA2"),
        calendar=CALENDAR,
        now=NOW + timedelta(days=6),
        window_days=7,
    )
    later = service.log_call(
        session=session,
        record=record("CA3"),
        calendar=CALENDAR,
        now=NOW + timedelta(days=14),
        window_days=7,
    )
    assert first.ticket_id == within.ticket_id != later.ticket_id


def test_resolved_tickets_are_not_reopened_by_a_new_call(session: Session) -> None:
    first = service.log_call(
        session=session, record=record("CA1"), calendar=CALENDAR, now=NOW, window_days=7
    )
    ticket = service.get_ticket(
        session=session, number=service.list_tickets(session=session)[0].number
    )
    assert ticket is not None and ticket.id == first.ticket_id
    ticket.status = TicketStatus.resolved
    session.add(ticket)
    second = service.log_call(
        session=session, record=record("CA2"), calendar=CALENDAR, now=NOW, window_days=7
    )
    assert second.ticket_id != first.ticket_id


def test_dispositions() -> None:
    queued = record("CA1", queue_entered_at=NOW)
    assert service.disposition_of(queued, has_voicemail=False) == CallDisposition.abandoned
    answered = record("CA1", queue_entered_at=NOW, answered_at=NOW + timedelta(seconds=9))
    assert service.disposition_of(answered, has_voicemail=False) == CallDisposition.answered
    assert (
        service.disposition_of(record("CA1", after_hours=True), has_voicemail=True)
        == CallDisposition.voicemail
    )
    assert (
        service.disposition_of(record("CA1", self_service=True), has_voicemail=False)
        == CallDisposition.self_service
    )


def test_case_status_only_for_the_customers_own_numbers(session: Session) -> None:
    customer = service.create_customer(
        session=session,
        data=CustomerBase(name="李娜"),
        phones=["+8613900139000", "+861065550100"],
        now=NOW,
    )
    service.log_call(
        session=session,
        record=record("CA1", customer_id=customer.id, from_number="+8613900139000"),
        calendar=CALENDAR,
        now=NOW,
        window_days=7,
    )
    number = service.list_tickets(session=session)[0].number
    assert (
        service.caller_case_status(
            session=session, ticket_number=number, caller_number="+861065550100"
        )
        == "new"
    )
    assert (
        service.caller_case_status(
            session=session, ticket_number=number, caller_number="+8613612345678"
        )
        is None
    )
    assert (
        service.caller_case_status(session=session, ticket_number=number, caller_number=None)
        is None
    )
    assert (
        service.caller_case_status(
            session=session, ticket_number="T20991231-0001", caller_number="+861065550100"
        )
        is None
    )
