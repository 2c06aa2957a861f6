"""REST routes for call logs, call wrap-ups and the ticket configuration (category tree,
resolution and wrap-up codes). Tickets: crm/tickets_api.py; customers: crm/customers_api.py."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel

from crm import access, categories, service, tickets
from crm.deps import ViewerDep
from crm.models import (
    CallLogPublic,
    Ticket,
    TicketCategoryCreate,
    TicketCategoryPublic,
    TicketCategoryUpdate,
    WrapUpRequest,
)
from hotline.audit import AuditorDep
from hotline.auth import Admin, CurrentAgent
from hotline.deps import SessionDep
from hotline.errors import ERROR_RESPONSES, Forbidden, NotFound

router = APIRouter(prefix="/api", tags=["tickets"], responses=ERROR_RESPONSES)

CallSid = Annotated[str, Path(pattern=r"^CA[0-9a-fA-F]{32}$")]
CategoryCode = Annotated[str, Path(max_length=64)]


class TicketCodes(BaseModel):
    resolution_codes: list[str]
    wrap_up_codes: list[str]


@router.get("/calls/{call_sid}", response_model=CallLogPublic)
def get_call(call_sid: CallSid, session: SessionDep, viewer: ViewerDep) -> CallLogPublic:
    call = service.get_call_log(session=session, call_sid=call_sid)
    if call is None:
        raise NotFound(f"no call {call_sid}")
    if not viewer.sees_all and call.agent_id != viewer.agent_id:
        ticket = session.get(Ticket, call.ticket_id) if call.ticket_id is not None else None
        if ticket is None or not access.may_see_ticket(
            session=session, viewer=viewer, ticket=ticket
        ):
            raise Forbidden(f"call {call_sid} is outside your queues and department")
    return CallLogPublic.model_validate(call)


@router.post("/calls/{call_sid}/wrap-up", response_model=CallLogPublic)
def wrap_up(
    call_sid: CallSid,
    data: WrapUpRequest,
    session: SessionDep,
    viewer: ViewerDep,
    auditor: AuditorDep,
) -> CallLogPublic:
    """The agent who took the call (or a supervisor) records its wrap-up code, once; it goes
    on the call log and the ticket's timeline."""
    call = service.get_call_log(session=session, call_sid=call_sid)
    if call is None:
        raise NotFound(f"no call {call_sid} (yet: calls are logged a moment after they end)")
    if not viewer.sees_all and call.agent_id != viewer.agent_id:
        raise Forbidden("only the agent who took the call, or a supervisor, wraps it up")
    tickets.wrap_up_call(
        session=session,
        call=call,
        code=data.code,
        note=data.note,
        actor=auditor.actor,
        now=auditor.now,
    )
    auditor.record("call.wrap_up", "call", call_sid, {"code": data.code})
    return CallLogPublic.model_validate(call)


@router.get("/ticket-codes", response_model=TicketCodes)
def ticket_codes(_: CurrentAgent) -> TicketCodes:
    """The configured resolution and wrap-up codes (crm/ticket_config.yaml)."""
    config = categories.load_config()
    return TicketCodes(
        resolution_codes=sorted(config.resolution_codes),
        wrap_up_codes=sorted(config.wrap_up_codes),
    )


@router.get("/ticket-categories", response_model=list[TicketCategoryPublic])
def list_categories(session: SessionDep, _: CurrentAgent) -> list[TicketCategoryPublic]:
    """The category tree, parents before children (dotted codes)."""
    return [categories.public(c) for c in categories.list_categories(session=session)]


@router.post("/ticket-categories", response_model=TicketCategoryPublic, status_code=201)
def create_category(
    data: TicketCategoryCreate, session: SessionDep, _: Admin, auditor: AuditorDep
) -> TicketCategoryPublic:
    category = categories.create_category(session=session, data=data)
    auditor.record("category.create", "ticket_category", category.code)
    return categories.public(category)


@router.patch("/ticket-categories/{code}", response_model=TicketCategoryPublic)
def update_category(
    code: CategoryCode,
    data: TicketCategoryUpdate,
    session: SessionDep,
    _: Admin,
    auditor: AuditorDep,
) -> TicketCategoryPublic:
    category = categories.update_category(session=session, code=code, data=data)
    auditor.record("category.update", "ticket_category", code, data.model_dump(exclude_unset=True))
    return categories.public(category)
