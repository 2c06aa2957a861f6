"""REST routes for tickets. Thin: who may, then the service, then the audit row.

The path parameter is the ticket number (T20261128-0001)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from crm import access, case_hooks, escalations, sla, tickets
from crm.deps import ViewerDep, check_assignee
from crm.models import (
    LinkRequest,
    MergeRequest,
    NoteCreate,
    TicketCreate,
    TicketDetail,
    TicketEventPublic,
    TicketPublic,
    TicketStatus,
    TicketUpdate,
    TransitionRequest,
)
from crm.ticket_search import TicketFilters, TicketSort, search_tickets
from hotline.audit import AuditorDep
from hotline.deps import MAX_ROW_ID, ServicesDep, SessionDep
from hotline.errors import ERROR_RESPONSES, Invalid
from hotline.phone import to_e164

router = APIRouter(prefix="/api/tickets", tags=["tickets"], responses=ERROR_RESPONSES)

TicketNumber = Annotated[str, Path(pattern=r"^T\d{8}-\d{4,}$", max_length=20)]


def _day_start(day: date, services: ServicesDep) -> datetime:
    """A bank-local calendar day's first moment, as aware UTC."""
    return datetime.combine(day, time(), tzinfo=services.calendar.zone)


@router.get("", response_model=list[TicketPublic])
def list_tickets(
    response: Response,
    session: SessionDep,
    services: ServicesDep,
    viewer: ViewerDep,
    number: Annotated[str | None, Query(pattern=r"^T\d{8}-\d{4,}$", max_length=20)] = None,
    phone: Annotated[str | None, Query(max_length=32)] = None,
    customer_id: Annotated[int | None, Query(ge=1, le=MAX_ROW_ID)] = None,
    status: Annotated[list[TicketStatus] | None, Query()] = None,
    department: Annotated[int | None, Query(ge=1, le=MAX_ROW_ID)] = None,
    category: Annotated[str | None, Query(max_length=64)] = None,
    assignee: Annotated[int | None, Query(ge=1, le=MAX_ROW_ID)] = None,
    breach: bool | None = None,
    created_from: date | None = None,
    created_to: date | None = None,
    sort: TicketSort = TicketSort.last_contact_at_desc,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[TicketPublic]:
    """Tickets the caller may see, newest contact first unless `sort` says otherwise; the
    number of matching tickets in `X-Total-Count`. Dates are bank-local days, inclusive."""
    e164 = None
    if phone is not None:
        e164 = to_e164(phone)
        if e164 is None:
            raise Invalid("phone: not a phone number; use E.164, e.g. +8613800138000")
    filters = TicketFilters(
        number=number,
        phone=e164,
        customer_id=customer_id,
        statuses=status or [],
        department_id=department,
        category=category,
        assignee_id=assignee,
        breached=breach,
        created_from=_day_start(created_from, services) if created_from else None,
        created_to=_day_start(created_to + timedelta(days=1), services) if created_to else None,
    )
    rows, total = search_tickets(
        session=session,
        filters=filters,
        scope=access.ticket_scope(session=session, viewer=viewer),
        sort=sort,
        limit=limit,
        offset=offset,
    )
    response.headers["X-Total-Count"] = str(total)
    return [TicketPublic.model_validate(ticket) for ticket in rows]


@router.post("", response_model=TicketDetail, status_code=201)
def create_ticket(
    request: Request,
    data: TicketCreate,
    session: SessionDep,
    services: ServicesDep,
    auditor: AuditorDep,
) -> TicketDetail:
    """A ticket an agent opens by hand (e-mail, web form, branch); assigned to them unless
    another assignee is named."""
    check_assignee(request, session, data.assignee_id)
    ticket = tickets.create_ticket(
        session=session,
        data=data,
        actor=auditor.actor,
        agent_id=auditor.principal.agent_id,
        now=auditor.now,
        local_day=auditor.now.astimezone(services.calendar.zone).date(),
    )
    case_hooks.after_ticket_saved(
        session=session,
        ticket=ticket,
        calendar=services.calendar,
        severity_threshold=services.settings.escalate_severity,
        now=auditor.now,
    )
    auditor.record("ticket.create", "ticket", ticket.number)
    return tickets.detail(session=session, ticket=ticket)


@router.get("/{number}", response_model=TicketDetail)
def get_ticket(number: TicketNumber, session: SessionDep, viewer: ViewerDep) -> TicketDetail:
    ticket = access.require_ticket(session=session, viewer=viewer, number=number)
    return tickets.detail(session=session, ticket=ticket)


@router.patch("/{number}", response_model=TicketDetail)
def update_ticket(
    request: Request,
    number: TicketNumber,
    data: TicketUpdate,
    session: SessionDep,
    services: ServicesDep,
    viewer: ViewerDep,
    auditor: AuditorDep,
) -> TicketDetail:
    ticket = access.require_ticket(session=session, viewer=viewer, number=number)
    check_assignee(request, session, data.assignee_id)
    changes = tickets.update_ticket(
        session=session, ticket=ticket, data=data, actor=auditor.actor, now=auditor.now
    )
    if changes:
        case_hooks.after_ticket_saved(
            session=session,
            ticket=ticket,
            calendar=services.calendar,
            severity_threshold=services.settings.escalate_severity,
            now=auditor.now,
        )
        auditor.record("ticket.update", "ticket", number, {"changes": changes})
    return tickets.detail(session=session, ticket=ticket)


@router.post("/{number}/notes", response_model=TicketEventPublic, status_code=201)
def add_note(
    number: TicketNumber,
    data: NoteCreate,
    session: SessionDep,
    viewer: ViewerDep,
    auditor: AuditorDep,
) -> TicketEventPublic:
    """An internal note (staff only) or a customer-facing one (`"internal": false`)."""
    ticket = access.require_ticket(session=session, viewer=viewer, number=number)
    event = tickets.add_note(
        session=session,
        ticket=ticket,
        text=data.text,
        internal=data.internal,
        actor=auditor.actor,
        now=auditor.now,
    )
    if not data.internal:
        sla.record_first_response(session=session, ticket=ticket, at=auditor.now)
    auditor.record("ticket.note", "ticket", number, {"internal": data.internal})
    return TicketEventPublic.model_validate(event)


@router.post("/{number}/transition", response_model=TicketDetail)
def transition(
    number: TicketNumber,
    data: TransitionRequest,
    session: SessionDep,
    services: ServicesDep,
    viewer: ViewerDep,
    auditor: AuditorDep,
) -> TicketDetail:
    """Move the status; a move the status machine refuses is a 409 listing `allowed`."""
    ticket = access.require_ticket(session=session, viewer=viewer, number=number)
    old = str(ticket.status)
    tickets.transition(
        session=session, ticket=ticket, request=data, actor=auditor.actor, now=auditor.now
    )
    escalations.after_status_change(
        session=session,
        ticket=ticket,
        old=TicketStatus(old),
        calendar=services.calendar,
        now=auditor.now,
    )
    auditor.record("ticket.transition", "ticket", number, {"old": old, "new": str(data.to)})
    return tickets.detail(session=session, ticket=ticket)


@router.post("/{number}/merge", response_model=TicketDetail)
def merge(
    number: TicketNumber,
    data: MergeRequest,
    session: SessionDep,
    services: ServicesDep,
    viewer: ViewerDep,
    auditor: AuditorDep,
) -> TicketDetail:
    """Merge this ticket into `into`: this one closes and points there. Answers the target."""
    source = access.require_ticket(session=session, viewer=viewer, number=number)
    target = access.require_ticket(session=session, viewer=viewer, number=data.into)
    old = TicketStatus(source.status)
    tickets.merge_tickets(
        session=session, source=source, target=target, actor=auditor.actor, now=auditor.now
    )
    escalations.after_status_change(
        session=session, ticket=source, old=old, calendar=services.calendar, now=auditor.now
    )
    auditor.record("ticket.merge", "ticket", number, {"into": target.number})
    return tickets.detail(session=session, ticket=target)


@router.post("/{number}/links", response_model=TicketDetail, status_code=201)
def link(
    number: TicketNumber,
    data: LinkRequest,
    session: SessionDep,
    viewer: ViewerDep,
    auditor: AuditorDep,
) -> TicketDetail:
    ticket = access.require_ticket(session=session, viewer=viewer, number=number)
    other = access.require_ticket(session=session, viewer=viewer, number=data.number)
    tickets.link_tickets(
        session=session, ticket=ticket, other=other, actor=auditor.actor, now=auditor.now
    )
    auditor.record("ticket.link", "ticket", number, {"other": other.number})
    return tickets.detail(session=session, ticket=ticket)
