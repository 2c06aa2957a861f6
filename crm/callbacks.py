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

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import case, func, update
from sqlmodel import Session, col, select

from crm.models import (
    Callback,
    CallLog,
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
) -> Claim | None:
    """Take attempt `attempts + 1` of a due callback, once: commit before calling.

    None when someone else has it, it is not due, it was cancelled, or the bank is closed
    (then it waits for the next opening: nobody is called outside business hours)."""
    callback = session.get(Callback, callback_id)
    if callback is None or callback.status != SCHEDULED or callback.attempts != attempts:
        return None
    if callback.due_at > now + SCHEDULER_EARLINESS:
        return None
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
    *, session: Session, now: datetime, limit: int = 200
) -> list[tuple[int, int, datetime]]:
    """(id, attempts made, due at) of scheduled callbacks whose time has come, oldest first."""
    rows = session.exec(
        select(Callback.id, Callback.attempts, Callback.due_at)
        .where(Callback.status == SCHEDULED, col(Callback.due_at) <= now)
        .order_by(col(Callback.due_at))
        .limit(limit)
    ).all()
    return [(int(callback_id or 0), attempts, due_at) for callback_id, attempts, due_at in rows]


# --- what the call says ----------------------------------------------------------------------


@dataclass(frozen=True)
class CallbackCall:
    """What the voice side needs about a callback: nothing it may not say."""

    callback_id: int
    status: str
    attempts: int
    outcome: str | None
    ticket_number: str
    category: str
    language: str
    customer_id: int | None
    phone: str
    last_agent_id: int | None


def call_context(*, session: Session, callback_id: int) -> CallbackCall | None:
    callback = session.get(Callback, callback_id)
    if callback is None:
        return None
    ticket = session.get(Ticket, callback.ticket_id)
    assert ticket is not None
    customer = session.get(Customer, callback.customer_id) if callback.customer_id else None
    last_agent = session.exec(
        select(CallLog.agent_id)
        .where(CallLog.ticket_id == ticket.id, col(CallLog.agent_id).is_not(None))
        .order_by(col(CallLog.started_at).desc())
        .limit(1)
    ).first()
    return CallbackCall(
        callback_id=callback_id,
        status=callback.status,
        attempts=callback.attempts,
        outcome=callback.outcome,
        ticket_number=ticket.number,
        category=ticket.category,
        language=customer.preferred_language if customer else "zh",
        customer_id=callback.customer_id,
        phone=callback.phone,
        last_agent_id=last_agent,
    )


def callback_reason(*, session: Session, callback_id: int) -> str | None:
    callback = session.get(Callback, callback_id)
    return callback.reason if callback else None


# --- figures ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CallbackFigures:
    """Due now; and per moment in `since`: scheduled, placed, connected and failed since."""

    due: int
    scheduled: list[int]
    placed: list[int]
    connected: list[int]
    failed: list[int]


def callback_figures(
    *, session: Session, now: datetime, since: Sequence[datetime]
) -> CallbackFigures:
    """Counts on indexed columns, for the live figures. A callback tried several times counts
    once in "placed" and "connected", at its latest call."""
    due = session.exec(
        select(func.count())
        .select_from(Callback)
        .where(Callback.status == SCHEDULED, col(Callback.due_at) <= now)
    ).one()
    if not since:
        return CallbackFigures(int(due), [], [], [], [])
    earliest = min(since)

    def counts(column: Any, *where: Any) -> list[int]:
        row = session.execute(
            select(*(func.count(case((column >= moment, 1))) for moment in since))
            .select_from(Callback)
            .where(column >= earliest, *where)
        ).one()
        return [int(value) for value in row]

    return CallbackFigures(
        due=int(due),
        scheduled=counts(col(Callback.created_at)),
        placed=counts(col(Callback.placed_at)),
        connected=counts(col(Callback.answered_at)),
        failed=counts(col(Callback.finished_at), col(Callback.status).in_((EXHAUSTED, FAILED))),
    )
