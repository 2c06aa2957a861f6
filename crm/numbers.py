"""Ticket numbers: T20261128-0001, a sequence per bank-local day."""

from __future__ import annotations

from datetime import date

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col

from crm.models import TicketCounter


def next_ticket_number(*, session: Session, day: date) -> str:
    """`T20261128-0001`: a per-day sequence, safe with many writers (one upsert)."""
    key = day.strftime("%Y%m%d")
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(TicketCounter)
        .values(day=key, last=1)
        .on_conflict_do_update(index_elements=["day"], set_={"last": TicketCounter.last + 1})
        .returning(col(TicketCounter.last))
    )
    sequence = session.execute(statement).scalar_one()
    return f"T{key}-{sequence:04d}"


def parse_ticket_number(digits: str) -> str | None:
    """What a caller keys on the phone (`202611280001`) back into a ticket number."""
    if len(digits) < 9 or not digits.isdigit():
        return None
    return f"T{digits[:8]}-{digits[8:]}"
