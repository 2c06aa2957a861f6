"""Reading callbacks: what the voice side may know about one, and the supervisors' figures."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, func
from sqlmodel import Session, col, select

from crm.callbacks import EXHAUSTED, FAILED, SCHEDULED
from crm.models import Callback, CallLog, Customer, Ticket
from crm.virtual_holds import OPEN as OPEN_HOLDS
from crm.virtual_holds import VIRTUAL_HOLD

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
    reason: str


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
        reason=callback.reason,
    )


# --- figures ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CallbackFigures:
    """Due now; and per moment in `since`: scheduled, placed, connected and failed since.
    Virtual holds count in these like any callback; `holding`: those waiting for their turn."""

    due: int
    scheduled: list[int]
    placed: list[int]
    connected: list[int]
    failed: list[int]
    holding: int = 0


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
    holding = session.exec(
        select(func.count())
        .select_from(Callback)
        .where(col(Callback.status).in_(OPEN_HOLDS), Callback.reason == VIRTUAL_HOLD)
    ).one()
    if not since:
        return CallbackFigures(int(due), [], [], [], [], holding=int(holding))
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
        holding=int(holding),
    )
