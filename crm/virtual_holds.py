"""Virtual hold on record: a waiting caller chose to be called back, keeping their place.

The router (routing/lua/holds.lua) keeps the place and decides; this module keeps the callback
row (reason `virtual_hold`, keyed by the call the caller made) and the ticket's timeline. States:

    holding --placed--> dialing --customer answers--> completed (connected to the agent)
       ^                   |
       +-- not answered ---+-- after the last attempt --> exhausted

Every change is a compare-and-set on the attempt number, so repeated or late reports change
nothing. The row is never `scheduled`: the follow-up sweeper does not see it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import or_, update
from sqlmodel import Session, col, select

from crm.call_logging import ticket_for_call
from crm.callbacks import COMPLETED, DIALING, EXHAUSTED, append_event
from crm.models import Callback, CallRecord, EventKind, Ticket
from hotline.business_hours import BusinessCalendar

VIRTUAL_HOLD = "virtual_hold"
HOLDING = "holding"
OPEN = (HOLDING, DIALING)


def hold_of(session: Session, origin_call_sid: str) -> Callback | None:
    """The callback a caller asked for on this call, if they did."""
    return session.exec(
        select(Callback).where(
            Callback.origin_call_sid == origin_call_sid, Callback.reason == VIRTUAL_HOLD
        )
    ).first()


def record_hold(
    *,
    session: Session,
    record: CallRecord,
    calendar: BusinessCalendar,
    now: datetime,
    window_days: int,
) -> Callback | None:
    """The caller's callback, once: on the ticket their call goes onto (found or opened now).
    None for a caller with no number to call."""
    existing = hold_of(session, record.call_sid)
    if existing is not None or record.from_number is None:
        return existing
    ticket, _ = ticket_for_call(
        session=session,
        record=record,
        zone_day=record.started_at.astimezone(calendar.zone).date(),
        now=now,
        window_days=window_days,
    )
    assert ticket.id is not None
    callback = Callback(
        ticket_id=ticket.id,
        customer_id=record.customer_id,
        phone=record.from_number,
        due_at=now,
        reason=VIRTUAL_HOLD,
        status=HOLDING,
        origin_call_sid=record.call_sid,
        created_at=now,
    )
    session.add(callback)
    session.flush()
    append_event(
        session, ticket_id=ticket.id, kind=EventKind.callback_scheduled, at=now,
        data={"callback_id": callback.id, "reason": VIRTUAL_HOLD, "call_sid": record.call_sid},
    )  # fmt: skip
    return callback


def ticket_of_hold(session: Session, origin_call_sid: str) -> Ticket | None:
    """The ticket of the caller's hold: their call, and the call back, are logged there."""
    callback = hold_of(session, origin_call_sid)
    return session.get(Ticket, callback.ticket_id) if callback is not None else None


def _change(session: Session, origin: str, *where: Any, **values: object) -> int:
    result = session.execute(
        update(Callback)
        .where(
            col(Callback.origin_call_sid) == origin,
            col(Callback.reason) == VIRTUAL_HOLD,
            col(Callback.status).in_(OPEN),
            *where,
        )
        .values(**values)
    )
    return int(getattr(result, "rowcount", 0))


def _event(session: Session, origin: str, kind: EventKind, at: datetime, **data: object) -> None:
    callback = hold_of(session, origin)
    if callback is not None:
        append_event(
            session, ticket_id=callback.ticket_id, kind=kind, at=at,
            data={"callback_id": callback.id, "reason": VIRTUAL_HOLD, **data},
        )  # fmt: skip


def placed(
    *, session: Session, origin_call_sid: str, attempt: int, call_sid: str, now: datetime
) -> bool:
    """Attempt `attempt` is ringing the customer: its CallSid on record."""
    changed = _change(
        session, origin_call_sid, col(Callback.attempts) < attempt,
        status=DIALING, attempts=attempt, call_sid=call_sid, placed_at=now,
    )  # fmt: skip
    if changed:
        _event(session, origin_call_sid, EventKind.callback_placed, now,
               attempt=attempt, call_sid=call_sid)  # fmt: skip
    return changed == 1


def answered(*, session: Session, origin_call_sid: str, call_sid: str, now: datetime) -> bool:
    """The customer picked up and is put through to the agent kept for them: done."""
    changed = _change(
        session, origin_call_sid,
        status=COMPLETED, outcome="agent", answered_at=now, finished_at=now, call_sid=call_sid,
    )  # fmt: skip
    if changed:
        _event(session, origin_call_sid, EventKind.callback_result, now,
               status=COMPLETED, outcome="agent", call_sid=call_sid)  # fmt: skip
    return changed == 1


def attempt_failed(
    *,
    session: Session,
    origin_call_sid: str,
    attempt: int,
    result: str,
    final: bool,
    now: datetime,
) -> bool:
    """Attempt `attempt` came to nothing: back to holding, or given up after the last one."""
    values: dict[str, object] = {"attempts": attempt, "last_result": result[:32]}
    if final:
        values.update(status=EXHAUSTED, outcome=result[:16], finished_at=now)
    else:
        values.update(status=HOLDING)
    # Once per attempt: while it rings, or when its placing never made it on record.
    changed = _change(
        session, origin_call_sid, col(Callback.attempts) <= attempt,
        or_(col(Callback.status) == DIALING, col(Callback.attempts) < attempt), **values,
    )  # fmt: skip
    if changed:
        _event(session, origin_call_sid, EventKind.callback_result, now, attempt=attempt,
               result=result, status=EXHAUSTED if final else HOLDING)  # fmt: skip
    return changed == 1
