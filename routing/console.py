"""The agent's desk: their state as the router holds it, and the call offered to them or on
their line with who is calling (the screen pop). Reads only: Redis for the call, the IVR for
the caller's number, the CRM for the customer and their open tickets."""

from __future__ import annotations

from datetime import UTC, datetime

import redis
from sqlmodel import Session

from crm import service as crm
from hotline.phone import mask
from ivr import service as ivr
from routing.console_models import (
    AgentDesk,
    CallerCard,
    CallOnDesk,
    CallPhase,
    CustomerCard,
    TicketCard,
    TimelineEntry,
)
from routing.engine import SyncRouter
from routing.models import Agent

OPEN_TICKETS_SHOWN = 5
TIMELINE_ENTRIES_SHOWN = 3


def _moment(epoch: str | None) -> datetime | None:
    try:
        return datetime.fromtimestamp(float(epoch), UTC) if epoch else None
    except ValueError:
        return None


def _phase(agent_state: str, call_state: str) -> CallPhase | None:
    """Which part of a call the agent is in; None when the router's records disagree (a call
    moved on between the two reads): the next poll sees it settled."""
    if agent_state == "reserved" and call_state == "offered":
        return "offered"
    if agent_state == "busy" and call_state == "connected":
        return "connected"
    if agent_state == "wrap_up" and call_state in ("ended", "gone", ""):
        return "wrap_up"
    return None


def agent_desk(
    *, session: Session, router: SyncRouter, client: redis.Redis, agent: Agent
) -> AgentDesk:
    """What the agent's console shows now."""
    assert agent.id is not None
    held = router.agent_state(agent.id)
    # The router is the truth about calls; the record catches up from its events.
    state = held.get("state") or str(agent.state)
    since = _moment(held.get("since")) if held else agent.state_since
    reason = (held.get("reason") if held else agent.break_reason) or None
    desk = AgentDesk(state=state, since=since, reason=reason, call=None)
    call_sid = held.get("call", "")
    if not call_sid:
        return desk
    call = router.call_state(call_sid)
    if call and call.get("agent") != str(agent.id):
        return desk
    phase = _phase(state, call.get("state", ""))
    if phase is None:
        return desk
    caller, tickets = _who_is_calling(session=session, client=client, call_sid=call_sid)
    desk.call = CallOnDesk(
        call_sid=call_sid,
        queue=call.get("queue", ""),
        phase=phase,
        offered_at=_moment(call.get("offered_at")),
        answered_at=_moment(call.get("answered_at")),
        caller=caller,
        tickets=tickets,
    )
    return desk


def _who_is_calling(
    *, session: Session, client: redis.Redis, call_sid: str
) -> tuple[CallerCard, list[TicketCard]]:
    on_line = ivr.caller_on_line(client=client, call_sid=call_sid)
    number = on_line.number if on_line else None
    customer_id = on_line.customer_id if on_line else None
    customer = crm.get_customer(session=session, customer_id=customer_id) if customer_id else None
    card = None
    if customer is not None and customer.id is not None:
        card = CustomerCard(
            id=customer.id,
            name=customer.name,
            segment=str(customer.segment),
            preferred_language=customer.preferred_language,
        )
    tickets = crm.open_tickets_of(
        session=session,
        customer_id=customer_id,
        phone=None if customer_id else number,
        limit=OPEN_TICKETS_SHOWN,
    )
    ids = [ticket.id for ticket in tickets if ticket.id is not None]
    events = crm.latest_events(session=session, ticket_ids=ids, per_ticket=TIMELINE_ENTRIES_SHOWN)
    return (
        CallerCard(number_masked=mask(number), customer=card),
        [
            TicketCard(
                number=ticket.number,
                subject=ticket.subject,
                status=str(ticket.status),
                category=ticket.category,
                priority=ticket.priority,
                complaint=ticket.complaint,
                updated_at=ticket.updated_at,
                latest=[
                    TimelineEntry.model_validate(event, from_attributes=True)
                    for event in events.get(ticket.id or 0, [])
                ],
            )
            for ticket in tickets
        ],
    )
