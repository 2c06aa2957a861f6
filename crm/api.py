"""REST routes for tickets and call logs. Thin: validation here, logic in the service."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from crm import service
from crm.models import CallLogPublic, TicketDetail, TicketEventPublic, TicketPublic, TicketStatus
from hotline.auth import CurrentAgent
from hotline.deps import SessionDep
from hotline.errors import ERROR_RESPONSES, NotFound

router = APIRouter(prefix="/api", tags=["tickets"], responses=ERROR_RESPONSES)

TicketNumber = Annotated[str, Path(pattern=r"^T\d{8}-\d{4,}$", max_length=20)]


@router.get("/tickets", response_model=list[TicketPublic])
def list_tickets(
    session: SessionDep,
    _: CurrentAgent,
    status: TicketStatus | None = None,
    customer_id: Annotated[int | None, Query(ge=1)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[TicketPublic]:
    tickets = service.list_tickets(
        session=session, status=status, customer_id=customer_id, limit=limit, offset=offset
    )
    return [TicketPublic.model_validate(ticket) for ticket in tickets]


@router.get("/tickets/{number}", response_model=TicketDetail)
def get_ticket(number: TicketNumber, session: SessionDep, _: CurrentAgent) -> TicketDetail:
    ticket = service.get_ticket(session=session, number=number)
    if ticket is None or ticket.id is None:
        raise NotFound(f"no ticket {number}")
    events = service.timeline(session=session, ticket_id=ticket.id)
    return TicketDetail.model_validate(
        ticket,
        update={"timeline": [TicketEventPublic.model_validate(event) for event in events]},
    )


@router.get("/calls/{call_sid}", response_model=CallLogPublic)
def get_call(
    call_sid: Annotated[str, Path(pattern=r"^CA[0-9a-fA-F]{32}$")],
    session: SessionDep,
    _: CurrentAgent,
) -> CallLogPublic:
    call = service.get_call_log(session=session, call_sid=call_sid)
    if call is None:
        raise NotFound(f"no call {call_sid}")
    return CallLogPublic.model_validate(call)
