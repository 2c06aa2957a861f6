"""Callbacks the bank owes: when they are due, who may place them, and the figures.

States of a callback (the `status` column):

    scheduled --claim--> dialing --human answers--> answered --1/2--> completed
        ^                   |                          |
        |                   +-- no-answer/busy/failed/machine, or 3 "call me later" --+
        +------------------ retry with back-off, while attempts < the limit ----------+
                                                            else exhausted
    scheduled --reopen--> cancelled          dialing --number refused by Twilio--> failed

Placing a call is claimed first with a compare-and-set on (status, attempts) in SQL and
committed before the REST request, so a duplicated or retried job never calls twice.
The outcome of the calls is in crm/callback_results.py.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from crm.models import (
    Callback,
    Customer,
    CustomerPhone,
    EventKind,
    Ticket,
    TicketEvent,
    TicketType,
)
from hotline.business_hours import BusinessCalendar, parse_calendar
from hotline.settings import Settings, get_settings

FOLLOWUP = "followup"
SCHEDULED, DIALING, ANSWERED = "scheduled", "dialing", "answered"
COMPLETED, EXHAUSTED, FAILED, CANCELLED = "completed", "exhausted", "failed", "cancelled"
PENDING = (SCHEDULED, DIALING, ANSWERED)
# RQ's scheduler rounds to whole seconds and may run a job up to ~0.5 s before its time.
SCHEDULER_EARLINESS = timedelta(seconds=1)


@dataclass(frozen=True)
class CallbackPolicy:
    """When follow-ups are due and how often a callback is tried; from the settings."""

    delay_seconds: int | None = None
    complaint_time: time = time(10, 0)
    followup_hours: float = 3.0
    ticket_types: frozenset[str] = frozenset({"complaint", "inquiry", "request"})
    max_attempts: int = 3
    retry_seconds: int = 1800
    claim_timeout_seconds: int = 300
    around_the_clock: frozenset[str] = frozenset({"cards.lost_stolen"})

    @classmethod
    def from_settings(cls, settings: Settings) -> CallbackPolicy:
        hours, minutes = (int(part) for part in settings.callback_complaint_time.split(":"))
        return cls(
            delay_seconds=settings.callback_delay_seconds,
            complaint_time=time(hours, minutes),
            followup_hours=settings.callback_followup_hours,
            ticket_types=frozenset(
                kind.strip() for kind in settings.callback_ticket_types.split(",") if kind.strip()
            ),
            max_attempts=settings.callback_max_attempts,
            retry_seconds=settings.callback_retry_seconds,
            claim_timeout_seconds=settings.callback_claim_timeout_seconds,
            around_the_clock=frozenset(
                name.strip()
                for name in settings.callback_around_the_clock.split(",")
                if name.strip()
            ),
        )

    def retry_delay(self, attempts: int) -> timedelta:
        """The wait after the `attempts`-th failed call: doubled each time."""
        return timedelta(seconds=self.retry_seconds * 2 ** max(attempts - 1, 0))


def _defaults() -> tuple[CallbackPolicy, BusinessCalendar]:
    settings = get_settings()
    calendar = parse_calendar(
        settings.business_hours, timezone=settings.timezone, holidays=settings.holidays
    )
    return CallbackPolicy.from_settings(settings), calendar


def hours_for(
    session: Session, callback: Callback, policy: CallbackPolicy, calendar: BusinessCalendar
) -> BusinessCalendar:
    """The hours this callback may ring in: the bank's, or any hour for its urgent categories."""
    if not policy.around_the_clock:
        return calendar
    ticket = session.get(Ticket, callback.ticket_id)
    if ticket is not None and ticket.category in policy.around_the_clock:
        return replace(calendar, always_open=True)
    return calendar


def append_event(
    session: Session, *, ticket_id: int, kind: EventKind, at: datetime, data: dict[str, Any]
) -> None:
    session.add(TicketEvent(ticket_id=ticket_id, at=at, kind=kind, data=data))


# --- scheduling ------------------------------------------------------------------------------


def followup_due(
    *, ticket_type: str, resolved_at: datetime, policy: CallbackPolicy, calendar: BusinessCalendar
) -> datetime:
    """When a resolved ticket's follow-up call is due (UTC)."""
    if policy.delay_seconds is not None:
        return resolved_at + timedelta(seconds=policy.delay_seconds)
    if ticket_type == TicketType.complaint:
        # The next business day, at the configured local time (or its opening, if later).
        local = resolved_at.astimezone(calendar.zone)
        for offset in range(1, 370):
            day = local.date() + timedelta(days=offset)
            at = datetime.combine(day, policy.complaint_time, tzinfo=calendar.zone)
            opening = calendar.next_opening(at)
            if opening.astimezone(calendar.zone).date() == day:
                return opening
        return calendar.next_opening(resolved_at + timedelta(days=1))
    return calendar.next_opening(resolved_at + timedelta(hours=policy.followup_hours))


def _phone_for(session: Session, ticket: Ticket) -> str | None:
    if ticket.customer_id is None:
        return ticket.contact_phone
    phones = session.exec(
        select(CustomerPhone.number, CustomerPhone.kind)
        .where(CustomerPhone.customer_id == ticket.customer_id)
        .order_by(col(CustomerPhone.id))
    ).all()
    mobiles = [number for number, kind in phones if kind == "mobile"]
    everything = mobiles or [number for number, _ in phones]
    return everything[0] if everything else ticket.contact_phone


def schedule_followup(
    *,
    session: Session,
    ticket_id: int,
    now: datetime,
    policy: CallbackPolicy | None = None,
    calendar: BusinessCalendar | None = None,
) -> Callback | None:
    """Owe a resolved ticket's customer a follow-up call; None when they get none (no consent,
    no number, a type without follow-ups). One pending follow-up per ticket: a repeat returns it.
    Enqueue its job after the commit (crm.callback_jobs.schedule_placement); the sweeper places
    it anyway if nobody does."""
    if policy is None or calendar is None:
        default_policy, default_calendar = _defaults()
        policy, calendar = policy or default_policy, calendar or default_calendar
    ticket = session.get(Ticket, ticket_id)
    if ticket is None or str(ticket.ticket_type) not in policy.ticket_types:
        return None
    pending = session.exec(
        select(Callback).where(
            Callback.ticket_id == ticket_id,
            Callback.reason == FOLLOWUP,
            col(Callback.status).in_(PENDING),
        )
    ).first()
    if pending is not None:
        return pending
    if ticket.customer_id is not None:
        customer = session.get(Customer, ticket.customer_id)
        if customer is not None and not customer.consent_calls:
            return None
    phone = _phone_for(session, ticket)
    if phone is None:
        return None
    due = followup_due(
        ticket_type=str(ticket.ticket_type), resolved_at=now, policy=policy, calendar=calendar
    )
    callback = Callback(
        ticket_id=ticket_id,
        customer_id=ticket.customer_id,
        phone=phone,
        due_at=due,
        reason=FOLLOWUP,
        status=SCHEDULED,
        created_at=now,
    )
    session.add(callback)
    session.flush()
    append_event(
        session,
        ticket_id=ticket_id,
        kind=EventKind.callback_scheduled,
        at=now,
        data={"callback_id": callback.id, "due_at": due.isoformat(), "reason": FOLLOWUP},
    )
    return callback


def cancel_callbacks(*, session: Session, ticket_id: int, now: datetime) -> int:
    """Cancel the ticket's callbacks not yet being placed (the ticket was reopened)."""
    ids = session.exec(
        select(Callback.id).where(Callback.ticket_id == ticket_id, Callback.status == SCHEDULED)
    ).all()
    cancelled = 0
    for callback_id in ids:
        result = session.execute(
            update(Callback)
            .where(col(Callback.id) == callback_id, col(Callback.status) == SCHEDULED)
            .values(status=CANCELLED, outcome=CANCELLED, finished_at=now)
        )
        if result.rowcount == 1:  # type: ignore[attr-defined]
            cancelled += 1
            append_event(
                session,
                ticket_id=ticket_id,
                kind=EventKind.callback_result,
                at=now,
                data={"callback_id": callback_id, "status": CANCELLED},
            )
    return cancelled


# --- placing ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Claim:
    """A callback this worker now owns for one attempt: the call to place."""

    callback_id: int
    attempt: int
    phone: str
    claimed_at: datetime


def claim(
    *,
    session: Session,
    callback_id: int,
    attempts: int,
    now: datetime,
    calendar: BusinessCalendar,
    policy: CallbackPolicy | None = None,
) -> Claim | None:
    """Take attempt `attempts + 1` of a due callback, once: commit before calling.

    None when someone else has it, it is not due, it was cancelled, or the bank is closed
    (then it waits for the next opening: nobody is called outside business hours)."""
    callback = session.get(Callback, callback_id)
    if callback is None or callback.status != SCHEDULED or callback.attempts != attempts:
        return None
    if callback.due_at > now + SCHEDULER_EARLINESS:
        return None
    calendar = hours_for(session, callback, policy or CallbackPolicy(), calendar)
    if not calendar.is_open(now):
        session.execute(
            update(Callback)
            .where(col(Callback.id) == callback_id, col(Callback.status) == SCHEDULED)
            .values(due_at=calendar.next_opening(now))
        )
        return None
    if callback.reason == FOLLOWUP and callback.customer_id is not None:
        customer = session.get(Customer, callback.customer_id)
        if customer is not None and not customer.consent_calls:
            _finish_without_call(session, callback, now, outcome="no_consent")
            return None
    result = session.execute(
        update(Callback)
        .where(
            col(Callback.id) == callback_id,
            col(Callback.status) == SCHEDULED,
            col(Callback.attempts) == attempts,
        )
        .values(
            status=DIALING, attempts=attempts + 1, claimed_at=now, call_sid=None, last_result=None
        )
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return None
    return Claim(callback_id, attempts + 1, callback.phone, now)


def _finish_without_call(session: Session, callback: Callback, now: datetime, outcome: str) -> None:
    session.execute(
        update(Callback)
        .where(col(Callback.id) == callback.id, col(Callback.status) == SCHEDULED)
        .values(status=CANCELLED, outcome=outcome, finished_at=now)
    )
    append_event(
        session,
        ticket_id=callback.ticket_id,
        kind=EventKind.callback_result,
        at=now,
        data={"callback_id": callback.id, "status": CANCELLED, "outcome": outcome},
    )


def record_placed(
    *, session: Session, callback_id: int, attempt: int, call_sid: str, now: datetime
) -> bool:
    """Twilio took the call: keep its CallSid and put it on the ticket's timeline."""
    callback = session.get(Callback, callback_id)
    if callback is None or callback.attempts != attempt:
        return False
    session.execute(
        update(Callback)
        .where(col(Callback.id) == callback_id, col(Callback.attempts) == attempt)
        .where(col(Callback.call_sid).is_(None) | (col(Callback.call_sid) == call_sid))
        .values(call_sid=call_sid, placed_at=now)
    )
    append_event(
        session,
        ticket_id=callback.ticket_id,
        kind=EventKind.callback_placed,
        at=now,
        data={"callback_id": callback_id, "attempt": attempt, "call_sid": call_sid},
    )
    return True


def due_callbacks(
    *, session: Session, now: datetime, limit: int = 200, categories: frozenset[str] | None = None
) -> list[tuple[int, int, datetime]]:
    """(id, attempts made, due at) of scheduled callbacks whose time has come, oldest first;
    only those of tickets in `categories` when given."""
    query = select(Callback.id, Callback.attempts, Callback.due_at).where(
        Callback.status == SCHEDULED, col(Callback.due_at) <= now
    )
    if categories is not None:
        query = query.join(Ticket, col(Ticket.id) == col(Callback.ticket_id)).where(
            col(Ticket.category).in_(sorted(categories))
        )
    rows = session.exec(query.order_by(col(Callback.due_at)).limit(limit)).all()
    return [(int(callback_id or 0), attempts, due_at) for callback_id, attempts, due_at in rows]
