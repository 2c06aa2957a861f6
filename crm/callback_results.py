"""What became of a placed callback: answered, the customer's choice, the end of the call,
errors from Twilio, and claims whose worker died. Each is a compare-and-set on the row, so a
repeated or late Twilio request changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from crm.callbacks import (
    ANSWERED,
    COMPLETED,
    DIALING,
    EXHAUSTED,
    FAILED,
    SCHEDULED,
    CallbackPolicy,
    append_event,
    hours_for,
)
from crm.models import Callback, CallDisposition, CallLog, EventKind
from hotline.business_hours import BusinessCalendar

# The customer's keys on the follow-up call.
CHOICES = {"1": "resolved", "2": "agent", "3": "later"}
MACHINE_ANSWERS = frozenset(
    {"machine_start", "machine_end_beep", "machine_end_silence", "machine_end_other", "fax"}
)
NEVER_ANSWERED = frozenset({"no-answer", "busy", "failed", "canceled"})


def _rows(result: object) -> int:
    return int(getattr(result, "rowcount", 0))


def note_call_seen(*, session: Session, callback_id: int, attempt: int, call_sid: str) -> None:
    """A webhook of this attempt's call arrived: the call exists, whatever the worker did."""
    session.execute(
        update(Callback)
        .where(
            col(Callback.id) == callback_id,
            col(Callback.attempts) == attempt,
            col(Callback.call_sid).is_(None),
        )
        .values(call_sid=call_sid)
    )


def answered(
    *,
    session: Session,
    callback_id: int,
    attempt: int,
    call_sid: str,
    answered_by: str,
    now: datetime,
) -> bool:
    """The call was picked up: True if by a person (or AMD could not tell) and the prompt may
    play; False for a machine (leave the short message) or a stale attempt."""
    note_call_seen(session=session, callback_id=callback_id, attempt=attempt, call_sid=call_sid)
    where = (
        col(Callback.id) == callback_id,
        col(Callback.attempts) == attempt,
        col(Callback.call_sid) == call_sid,
    )
    if answered_by in MACHINE_ANSWERS:
        session.execute(
            update(Callback)
            .where(*where, col(Callback.status) == DIALING)
            .values(last_result="machine")
        )
        return False
    session.execute(
        update(Callback)
        .where(*where, col(Callback.status) == DIALING)
        .values(status=ANSWERED, answered_at=now, last_result=answered_by or "human")
    )
    callback = session.get(Callback, callback_id)
    return callback is not None and callback.status == ANSWERED and callback.attempts == attempt


def choose(
    *, session: Session, callback_id: int, attempt: int, digit: str, now: datetime
) -> str | None:
    """Apply the customer's key once; the outcome now on the callback (None: no valid key)."""
    outcome = CHOICES.get(digit)
    callback = session.get(Callback, callback_id)
    if callback is None or callback.attempts != attempt:
        return None
    if outcome is None or callback.outcome is not None or callback.status != ANSWERED:
        return callback.outcome
    finished = outcome != "later"  # "later" is decided when the call ends
    values: dict[str, object] = {"outcome": outcome}
    if finished:
        values.update(status=COMPLETED, finished_at=now)
    result = session.execute(
        update(Callback)
        .where(
            col(Callback.id) == callback_id,
            col(Callback.attempts) == attempt,
            col(Callback.status) == ANSWERED,
            col(Callback.outcome).is_(None),
        )
        .values(**values)
    )
    if _rows(result) == 1 and finished:
        append_event(
            session,
            ticket_id=callback.ticket_id,
            kind=EventKind.callback_result,
            at=now,
            data={"callback_id": callback_id, "attempt": attempt, "status": COMPLETED,
                  "outcome": outcome},
        )  # fmt: skip
    session.refresh(callback)
    return callback.outcome


@dataclass(frozen=True)
class Retry:
    """A callback put back in line: place attempt `attempts + 1` at `due_at`."""

    callback_id: int
    attempts: int
    due_at: datetime


def _retry_or_exhaust(
    session: Session,
    callback: Callback,
    *,
    from_statuses: tuple[str, ...],
    result: str,
    now: datetime,
    policy: CallbackPolicy,
    calendar: BusinessCalendar,
    extra: dict[str, object] | None = None,
) -> Retry | None:
    assert callback.id is not None
    where = (
        col(Callback.id) == callback.id,
        col(Callback.attempts) == callback.attempts,
        col(Callback.status).in_(from_statuses),
    )
    data: dict[str, object] = {
        "callback_id": callback.id, "attempt": callback.attempts, "result": result, **(extra or {})
    }  # fmt: skip
    retry: Retry | None = None
    if callback.attempts >= policy.max_attempts:
        changed = session.execute(
            update(Callback)
            .where(*where)
            .values(status=EXHAUSTED, finished_at=now, last_result=result, outcome=result)
        )
        data["status"] = EXHAUSTED
    else:
        hours = hours_for(session, callback, policy, calendar)
        due = hours.next_opening(now + policy.retry_delay(callback.attempts))
        changed = session.execute(
            update(Callback)
            .where(*where)
            .values(status=SCHEDULED, due_at=due, last_result=result, outcome=None, call_sid=None)
        )
        data.update(status=SCHEDULED, retry_at=due.isoformat())
        retry = Retry(callback.id, callback.attempts, due)
    if _rows(changed) != 1:
        return None
    append_event(
        session, ticket_id=callback.ticket_id, kind=EventKind.callback_result, at=now, data=data
    )
    return retry


def call_ended(
    *,
    session: Session,
    callback_id: int,
    attempt: int,
    call_sid: str,
    call_status: str,
    duration: int | None,
    now: datetime,
    policy: CallbackPolicy,
    calendar: BusinessCalendar,
    agent_id: int | None = None,
) -> Retry | None:
    """The attempt's call is over: done, or retried with back-off, or exhausted at the limit.
    A Retry when the callback must be placed again."""
    note_call_seen(session=session, callback_id=callback_id, attempt=attempt, call_sid=call_sid)
    callback = session.get(Callback, callback_id)
    if callback is None or callback.attempts != attempt or callback.call_sid != call_sid:
        return None  # a repeat, or the end of an attempt long gone
    extra: dict[str, object] = {"call_sid": call_sid, "duration_seconds": duration}
    if callback.status == COMPLETED:
        _log_call(session, callback, call_sid, now=now, duration=duration, agent_id=agent_id)
        return None
    if callback.status == ANSWERED:
        # "Call me later", or they hung up without a key: either way, not done yet.
        result = "later" if callback.outcome == "later" else "no_choice"
        _log_call(session, callback, call_sid, now=now, duration=duration)
        return _retry_or_exhaust(
            session, callback, from_statuses=(ANSWERED,), result=result, now=now,
            policy=policy, calendar=calendar, extra=extra,
        )  # fmt: skip
    if callback.status != DIALING:
        return None
    if callback.last_result == "machine":
        result = "machine"
    elif call_status in NEVER_ANSWERED:
        result = call_status
    else:
        result = "no_choice"
    return _retry_or_exhaust(
        session, callback, from_statuses=(DIALING,), result=result, now=now,
        policy=policy, calendar=calendar, extra=extra,
    )  # fmt: skip


def _log_call(
    session: Session,
    callback: Callback,
    call_sid: str,
    *,
    now: datetime,
    duration: int | None,
    agent_id: int | None = None,
) -> None:
    """The answered callback on its own ticket's call log, with the agent if one took it."""
    if session.exec(select(CallLog.id).where(CallLog.call_sid == call_sid)).first() is not None:
        return
    started = callback.answered_at or now
    session.add(
        CallLog(
            call_sid=call_sid,
            direction="outbound",
            to_number=callback.phone,
            customer_id=callback.customer_id,
            ticket_id=callback.ticket_id,
            started_at=started,
            answered_at=callback.answered_at,
            ended_at=now,
            duration_seconds=duration,
            agent_id=agent_id,
            disposition=(
                CallDisposition.answered
                if agent_id is not None
                else CallDisposition.completed_in_ivr
            ),
            route=f"callback.{callback.reason}",
        )
    )


def place_failed(
    *,
    session: Session,
    callback_id: int,
    attempt: int,
    code: int | None,
    retryable: bool,
    now: datetime,
    policy: CallbackPolicy,
    calendar: BusinessCalendar,
) -> Retry | None:
    """Twilio refused the call (it was not created): retry later, or fail for good."""
    callback = session.get(Callback, callback_id)
    if callback is None or callback.attempts != attempt or callback.status != DIALING:
        return None
    result = f"error_{code}" if code else "error"
    if retryable:
        return _retry_or_exhaust(
            session, callback, from_statuses=(DIALING,), result=result, now=now,
            policy=policy, calendar=calendar,
        )  # fmt: skip
    changed = session.execute(
        update(Callback)
        .where(
            col(Callback.id) == callback_id,
            col(Callback.attempts) == attempt,
            col(Callback.status) == DIALING,
        )
        .values(status=FAILED, finished_at=now, last_result=result, outcome=result)
    )
    if _rows(changed) == 1:
        append_event(
            session,
            ticket_id=callback.ticket_id,
            kind=EventKind.callback_result,
            at=now,
            data={"callback_id": callback_id, "attempt": attempt, "status": FAILED,
                  "result": result},
        )  # fmt: skip
    return None


def recover_stale_claims(
    *,
    session: Session,
    now: datetime,
    policy: CallbackPolicy,
    lease: tuple[timedelta, Callable[[int], bool]] | None = None,
    limit: int = 100,
) -> list[Retry]:
    """Claims whose call never showed a sign of life: the worker died before the REST request
    (a placed call sends its `initiated` status callback within seconds). Give the attempt back
    so the callback is placed again, once. With `lease` (its window, and whether a live worker
    holds a callback's lease), a claim past the window whose lease has lapsed goes back at
    once; any claim goes back after the claim timeout."""
    cutoff = now - timedelta(seconds=policy.claim_timeout_seconds)
    window, leased = lease if lease is not None else (timedelta(0), lambda _: True)
    claimed = session.exec(
        select(Callback)
        .where(
            Callback.status == DIALING,
            col(Callback.call_sid).is_(None),
            col(Callback.claimed_at) < max(cutoff, now - window),
        )
        .limit(limit)
    ).all()
    stale = [
        callback
        for callback in claimed
        if callback.claimed_at is not None
        and (callback.claimed_at < cutoff or not leased(callback.id or 0))
    ]
    recovered: list[Retry] = []
    for callback in stale:
        assert callback.id is not None
        changed = session.execute(
            update(Callback)
            .where(
                col(Callback.id) == callback.id,
                col(Callback.status) == DIALING,
                col(Callback.attempts) == callback.attempts,
                col(Callback.call_sid).is_(None),
            )
            .values(status=SCHEDULED, attempts=callback.attempts - 1, claimed_at=None, due_at=now)
        )
        if _rows(changed) == 1:
            recovered.append(Retry(callback.id, callback.attempts - 1, now))
    return recovered


def close_lost_calls(
    *,
    session: Session,
    now: datetime,
    older_than: timedelta,
    policy: CallbackPolicy,
    calendar: BusinessCalendar,
    limit: int = 100,
) -> list[Retry]:
    """Calls placed longer ago than any call lasts whose end Twilio never reported (its last
    status callback was lost): count the attempt as ended without an answer we know of."""
    stale = session.exec(
        select(Callback)
        .where(
            col(Callback.status).in_((DIALING, ANSWERED)),
            col(Callback.call_sid).is_not(None),
            col(Callback.claimed_at) < now - older_than,
        )
        .limit(limit)
    ).all()
    retries: list[Retry] = []
    for callback in stale:
        retry = _retry_or_exhaust(
            session, callback, from_statuses=(DIALING, ANSWERED), result="unknown", now=now,
            policy=policy, calendar=calendar, extra={"call_sid": callback.call_sid},
        )  # fmt: skip
        if retry is not None:
            retries.append(retry)
    return retries
