"""Legal holds on tickets: while one stands, the ticket's recordings are not deleted."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from crm import service as crm
from hotline.errors import Conflict, NotFound
from recordings.models import LegalHold, LegalHoldPublic


def _ticket_id(session: Session, number: str) -> int:
    ticket = crm.get_ticket(session=session, number=number)
    if ticket is None or ticket.id is None:
        raise NotFound(f"no ticket {number}")
    return ticket.id


def active_hold(*, session: Session, ticket_id: int) -> LegalHold | None:
    return session.exec(
        select(LegalHold)
        .where(LegalHold.ticket_id == ticket_id, col(LegalHold.released_at).is_(None))
        .with_for_update()
    ).first()


def set_hold(
    *, session: Session, number: str, reason: str, actor: str, now: datetime
) -> LegalHoldPublic:
    """Put a ticket on hold; 409 if it is on hold already."""
    ticket_id = _ticket_id(session, number)
    if active_hold(session=session, ticket_id=ticket_id) is not None:
        raise Conflict(f"ticket {number} is already on legal hold")
    hold = LegalHold(ticket_id=ticket_id, set_by=actor, reason=reason, set_at=now)
    session.add(hold)
    session.flush()
    return LegalHoldPublic.model_validate(hold, update={"ticket_number": number})


def release_hold(*, session: Session, number: str, actor: str, now: datetime) -> LegalHoldPublic:
    """Release a ticket's hold; 404 when there is none standing."""
    ticket_id = _ticket_id(session, number)
    hold = active_hold(session=session, ticket_id=ticket_id)
    if hold is None:
        raise NotFound(f"ticket {number} is not on legal hold")
    hold.released_at, hold.released_by = now, actor
    session.add(hold)
    session.flush()
    return LegalHoldPublic.model_validate(hold, update={"ticket_number": number})
