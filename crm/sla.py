"""SLA clocks: first response and resolution, per priority and ticket type (crm/sla.yaml).

Business clocks count the bank's opening hours only; the complaint clock counts calendar
days, as the regulator does. Both stand still while the ticket is pending the customer: the
time spent there is added to the budget when the ticket leaves that status, so the due
times move. The due times are kept on the ticket (`first_response_due_at`,
`resolution_due_at`), the clock state in `ticket_sla`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import BaseModel, Field
from sqlmodel import Session

from crm.business_time import add_business_seconds, business_seconds_between
from crm.case_models import TicketSla
from crm.models import Ticket, TicketStatus, TicketType
from hotline.business_hours import BusinessCalendar

POLICY_PATH = Path(__file__).with_name("sla.yaml")
HOUR = 3600.0
DAY = 86400.0


class PriorityTargets(BaseModel):
    first_response_hours: float = Field(gt=0)
    resolution_hours: float = Field(gt=0)


class TypeTargets(BaseModel):
    first_response_hours: float | None = Field(default=None, gt=0)
    resolution_hours: float | None = Field(default=None, gt=0)
    # A calendar-day resolution clock (the regulator's) instead of business hours.
    resolution_calendar_days: int | None = Field(default=None, gt=0)
    extension_days: list[int] = Field(default_factory=list)
    max_extension_days: int = Field(default=0, ge=0)


class SlaPolicy(BaseModel):
    priorities: dict[int, PriorityTargets]
    types: dict[TicketType, TypeTargets] = Field(default_factory=dict)

    def model_post_init(self, _context: object) -> None:
        if sorted(self.priorities) != [1, 2, 3, 4]:
            raise ValueError("the SLA policy needs targets for priorities 1 to 4")

    def for_type(self, ticket_type: TicketType) -> TypeTargets:
        return self.types.get(ticket_type, TypeTargets())


@lru_cache(maxsize=4)
def load_policy(path: Path = POLICY_PATH) -> SlaPolicy:
    return SlaPolicy.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))


@dataclass(frozen=True)
class Budget:
    seconds: float
    business: bool


@dataclass(frozen=True)
class Targets:
    first_response: Budget
    resolution: Budget


def targets_for(policy: SlaPolicy, *, priority: int, ticket_type: TicketType) -> Targets:
    base = policy.priorities[priority]
    override = policy.for_type(ticket_type)
    first = override.first_response_hours or base.first_response_hours
    if override.resolution_calendar_days is not None:
        resolution = Budget(override.resolution_calendar_days * DAY, business=False)
    else:
        resolution = Budget((override.resolution_hours or base.resolution_hours) * HOUR, True)
    return Targets(first_response=Budget(first * HOUR, business=True), resolution=resolution)


def _due(calendar: BusinessCalendar, state: TicketSla, budget: Budget, extra: float) -> datetime:
    if budget.business:
        seconds = budget.seconds + state.paused_business_seconds + extra
        return add_business_seconds(calendar, state.started_at, seconds)
    seconds = budget.seconds + state.paused_calendar_seconds + extra
    return state.started_at + timedelta(seconds=seconds)


def _state(session: Session, ticket: Ticket) -> TicketSla | None:
    assert ticket.id is not None
    return session.get(TicketSla, ticket.id)


def set_due_times(
    *, session: Session, ticket: Ticket, calendar: BusinessCalendar, policy: SlaPolicy
) -> TicketSla:
    """Start the clocks if they have not started, then (re)compute the due times from the
    ticket's priority and type, the time paused and the approved extensions."""
    state = _state(session, ticket)
    if state is None:
        assert ticket.id is not None
        state = TicketSla(ticket_id=ticket.id, started_at=ticket.created_at)
    targets = targets_for(
        policy, priority=ticket.priority, ticket_type=TicketType(ticket.ticket_type)
    )
    first_due = _due(calendar, state, targets.first_response, 0.0)
    resolution_due = _due(calendar, state, targets.resolution, state.extension_days * DAY)
    # A clock that moves later warns again before its new due time.
    if ticket.first_response_due_at is not None and first_due > ticket.first_response_due_at:
        state.first_response_warned = False
    if ticket.resolution_due_at is not None and resolution_due > ticket.resolution_due_at:
        state.resolution_warned = False
    ticket.first_response_due_at = first_due
    ticket.resolution_due_at = resolution_due
    session.add_all([state, ticket])
    session.flush()
    return state


def on_status_change(
    *,
    session: Session,
    ticket: Ticket,
    old: TicketStatus,
    calendar: BusinessCalendar,
    now: datetime,
) -> None:
    """Pause the clocks when the ticket starts pending the customer; when it stops, add the
    time spent there to the budgets (the due times move)."""
    new = TicketStatus(ticket.status)
    if old == new:
        return
    state = _state(session, ticket)
    if state is None:
        return
    if new is TicketStatus.pending_customer and state.paused_since is None:
        state.paused_since = now
        session.add(state)
    elif old is TicketStatus.pending_customer and state.paused_since is not None:
        state.paused_business_seconds += business_seconds_between(calendar, state.paused_since, now)
        state.paused_calendar_seconds += max((now - state.paused_since).total_seconds(), 0.0)
        state.paused_since = None
        set_due_times(session=session, ticket=ticket, calendar=calendar, policy=load_policy())
    session.flush()


def record_first_response(
    *, session: Session, ticket: Ticket, at: datetime, state: TicketSla | None = None
) -> bool:
    """A customer-facing note or an answered call stops the first-response clock, once.
    `state` is the ticket's clock state when the caller holds it (saves reading it again: the
    session keeps no loaded row nobody refers to)."""
    if state is None:
        state = _state(session, ticket)
    if state is None or state.first_responded_at is not None:
        return False
    state.first_responded_at = at
    session.add(state)
    session.flush()
    return True


def clock_state(*, session: Session, ticket: Ticket) -> TicketSla | None:
    return _state(session, ticket)
