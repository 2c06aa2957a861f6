"""The ticket status machine: the one place that says which status may follow which.

    new → open → pending_customer / pending_department → escalated → resolved → closed
    reopen: resolved / closed → open

Hand-offs to a department (pending_department) and escalations (escalated) go through here
too, as does a merge (which closes the source from any state that is not closed yet).
"""

from __future__ import annotations

from crm.ticket_models import TicketStatus
from hotline.errors import Conflict, Invalid

S = TicketStatus

TRANSITIONS: dict[TicketStatus, tuple[TicketStatus, ...]] = {
    S.new: (S.open, S.pending_customer, S.pending_department, S.escalated, S.resolved),
    S.open: (S.pending_customer, S.pending_department, S.escalated, S.resolved),
    S.pending_customer: (S.open, S.pending_department, S.escalated, S.resolved),
    S.pending_department: (S.open, S.pending_customer, S.escalated, S.resolved),
    S.escalated: (S.open, S.pending_customer, S.pending_department, S.resolved),
    S.resolved: (S.closed, S.open),
    S.closed: (S.open,),
}

# Leaving these for `open` is a reopen: the ticket's resolution is cleared.
REOPEN_FROM = (S.resolved, S.closed)


def allowed(current: TicketStatus) -> list[TicketStatus]:
    return list(TRANSITIONS[current])


def check_transition(
    current: TicketStatus,
    to: TicketStatus,
    *,
    resolution_code: str | None,
    summary: str | None,
    resolution_codes: frozenset[str],
) -> None:
    """Raise Conflict (409, with the allowed statuses) for a move the table does not allow;
    a move to resolved needs a configured resolution code and a summary (else 422)."""
    options = allowed(current)
    if to not in options:
        raise Conflict(
            f"a ticket that is {current} cannot become {to}",
            allowed=[str(status) for status in options],
        )
    if to is S.resolved:
        if not resolution_code or not (summary or "").strip():
            raise Invalid("resolving needs a resolution_code and a summary")
        if resolution_code not in resolution_codes:
            raise Invalid(
                f"unknown resolution code {resolution_code!r}",
                resolution_codes=sorted(resolution_codes),
            )


def is_reopen(current: TicketStatus, to: TicketStatus) -> bool:
    return current in REOPEN_FROM and to is S.open


def check_mergeable(current: TicketStatus) -> None:
    """A merge closes the source: anything not closed may be merged."""
    if current is S.closed:
        raise Conflict(f"a ticket that is {current} cannot be merged", allowed=[])
