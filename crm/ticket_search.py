"""Finding tickets: filters, sort orders and pages, within what the viewer may see."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ColumnElement
from sqlmodel import Session, col, func, or_, select

from crm.models import CustomerPhone, Ticket, TicketStatus


class TicketSort(StrEnum):
    last_contact_at = "last_contact_at"
    last_contact_at_desc = "-last_contact_at"
    created_at = "created_at"
    created_at_desc = "-created_at"
    updated_at = "updated_at"
    updated_at_desc = "-updated_at"
    priority = "priority"
    priority_desc = "-priority"
    number = "number"
    number_desc = "-number"


@dataclass(frozen=True)
class TicketFilters:
    number: str | None = None
    phone: str | None = None  # E.164: the customer's numbers or the contact phone
    customer_id: int | None = None
    statuses: list[TicketStatus] = field(default_factory=list)
    department_id: int | None = None
    category: str | None = None  # a code and everything under it
    assignee_id: int | None = None
    breached: bool | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None  # exclusive


def _conditions(session: Session, filters: TicketFilters) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if filters.phone is not None:
        # The owner first, in its own indexed look-up: an OR over a sub-select makes
        # PostgreSQL scan every ticket, two plain index conditions do not.
        owner = session.exec(
            select(CustomerPhone.customer_id).where(CustomerPhone.number == filters.phone)
        ).first()
        if owner is not None:
            conditions.append(
                or_(
                    col(Ticket.customer_id) == owner,
                    col(Ticket.contact_phone) == filters.phone,
                )
            )
        else:
            conditions.append(col(Ticket.contact_phone) == filters.phone)
    if filters.number is not None:
        conditions.append(col(Ticket.number) == filters.number)
    if filters.customer_id is not None:
        conditions.append(col(Ticket.customer_id) == filters.customer_id)
    if filters.statuses:
        conditions.append(col(Ticket.status).in_([str(status) for status in filters.statuses]))
    if filters.department_id is not None:
        conditions.append(col(Ticket.department_id) == filters.department_id)
    if filters.category is not None:
        conditions.append(
            or_(
                col(Ticket.category) == filters.category,
                col(Ticket.category).startswith(filters.category + ".", autoescape=True),
            )
        )
    if filters.assignee_id is not None:
        conditions.append(col(Ticket.assignee_id) == filters.assignee_id)
    if filters.breached is not None:
        conditions.append(col(Ticket.breached) == filters.breached)
    if filters.created_from is not None:
        conditions.append(col(Ticket.created_at) >= filters.created_from)
    if filters.created_to is not None:
        conditions.append(col(Ticket.created_at) < filters.created_to)
    return conditions


def search_tickets(
    *,
    session: Session,
    filters: TicketFilters,
    scope: ColumnElement[bool] | None = None,
    sort: TicketSort = TicketSort.last_contact_at_desc,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Ticket], int]:
    """A page of tickets, and how many match in all."""
    conditions = _conditions(session, filters)
    if scope is not None:
        conditions.append(scope)
    query = select(Ticket).where(*conditions)
    total = session.exec(select(func.count()).select_from(Ticket).where(*conditions)).one()
    column = col(getattr(Ticket, sort.value.lstrip("-")))
    descending = sort.value.startswith("-")
    order = column.desc() if descending else column.asc()
    tie = col(Ticket.id).desc() if descending else col(Ticket.id).asc()
    rows = session.exec(query.order_by(order, tie).offset(offset).limit(limit))
    return list(rows), int(total)
