"""Who may see which tickets and customers.

Supervisors and admins see everything. An agent sees a ticket when
- it is assigned to them, or
- they took a call logged on it, or
- it belongs to their department (`Agent.department_id` = `Ticket.department_id`), or
- its category is one their queues serve: each category carries a routing skill (children
  inherit their parent's, see crm/ticket_config.yaml: accounts → `accounts`, cards → `cards`,
  transactions → `transactions`, loans & wealth → `loans`, complaint → `complaints`, other →
  `general`), and an agent with that skill at any level serves that category.
An agent sees a customer when they see at least one of the customer's tickets.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, false, or_
from sqlmodel import Session, col, select

from crm.categories import codes_for_skills
from crm.models import CallLog, Ticket
from hotline.auth import Principal
from hotline.errors import Forbidden, NotFound


@dataclass(frozen=True)
class Viewer:
    principal: Principal
    department_id: int | None = None
    skills: frozenset[str] = field(default_factory=frozenset)

    @property
    def sees_all(self) -> bool:
        return self.principal.is_supervisor

    @property
    def agent_id(self) -> int | None:
        return self.principal.agent_id

    @property
    def actor(self) -> str:
        return self.principal.actor


def ticket_scope(*, session: Session, viewer: Viewer) -> ColumnElement[bool] | None:
    """A condition on Ticket for the tickets `viewer` may see; None when they see all."""
    if viewer.sees_all:
        return None
    if viewer.agent_id is None:
        return false()
    took_calls = select(CallLog.ticket_id).where(
        CallLog.agent_id == viewer.agent_id, col(CallLog.ticket_id).is_not(None)
    )
    conditions: list[ColumnElement[bool]] = [
        col(Ticket.assignee_id) == viewer.agent_id,
        col(Ticket.id).in_(took_calls),
    ]
    if viewer.department_id is not None:
        conditions.append(col(Ticket.department_id) == viewer.department_id)
    codes = codes_for_skills(session=session, skills=viewer.skills)
    if codes:
        conditions.append(col(Ticket.category).in_(codes))
    return or_(*conditions)


def may_see_ticket(*, session: Session, viewer: Viewer, ticket: Ticket) -> bool:
    scope = ticket_scope(session=session, viewer=viewer)
    if scope is None:
        return True
    found = session.exec(select(Ticket.id).where(Ticket.id == ticket.id, scope)).first()
    return found is not None


def require_ticket(*, session: Session, viewer: Viewer, number: str) -> Ticket:
    """The ticket, if it exists (404) and `viewer` may see it (403)."""
    ticket = session.exec(select(Ticket).where(Ticket.number == number)).first()
    if ticket is None:
        raise NotFound(f"no ticket {number}")
    if not may_see_ticket(session=session, viewer=viewer, ticket=ticket):
        raise Forbidden(f"ticket {number} is outside your queues and department")
    return ticket


def may_see_customer(*, session: Session, viewer: Viewer, customer_id: int) -> bool:
    scope = ticket_scope(session=session, viewer=viewer)
    if scope is None:
        return True
    found = session.exec(
        select(Ticket.id).where(Ticket.customer_id == customer_id, scope).limit(1)
    ).first()
    return found is not None


def require_customer_access(*, session: Session, viewer: Viewer, customer_id: int) -> None:
    if not may_see_customer(session=session, viewer=viewer, customer_id=customer_id):
        raise Forbidden("this customer has no case in your queues or department")
