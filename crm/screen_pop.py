"""What an agent sees of a caller while the call rings or runs: the customer, their open
tickets and the latest of each ticket's timeline. Reads only; other domains reach it through
crm/service.py."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session, col, select

from crm.models import ACTIVE_STATUSES, Customer, Ticket, TicketEvent


def get_customer(*, session: Session, customer_id: int) -> Customer | None:
    return session.get(Customer, customer_id)


def open_tickets_of(
    *, session: Session, customer_id: int | None, phone: str | None, limit: int = 5
) -> list[Ticket]:
    """The caller's active tickets, latest contact first: the customer's, or for an unknown
    caller those opened from the same number."""
    if customer_id is not None:
        owner = col(Ticket.customer_id) == customer_id
    elif phone is not None:
        owner = col(Ticket.contact_phone) == phone
    else:
        return []
    query = (
        select(Ticket)
        .where(owner, col(Ticket.status).in_([str(status) for status in ACTIVE_STATUSES]))
        .order_by(col(Ticket.last_contact_at).desc(), col(Ticket.id).desc())
        .limit(limit)
    )
    return list(session.exec(query))


def latest_events(
    *, session: Session, ticket_ids: Sequence[int], per_ticket: int = 3
) -> dict[int, list[TicketEvent]]:
    """The newest `per_ticket` timeline entries of each ticket, newest first."""
    if not ticket_ids:
        return {}
    # A handful of open tickets per caller: one query each stays cheap and portable.
    found: dict[int, list[TicketEvent]] = {}
    for ticket_id in ticket_ids:
        query = (
            select(TicketEvent)
            .where(TicketEvent.ticket_id == ticket_id)
            .order_by(col(TicketEvent.at).desc(), col(TicketEvent.id).desc())
            .limit(per_ticket)
        )
        found[ticket_id] = list(session.exec(query))
    return found
