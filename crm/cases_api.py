"""REST routes that work a ticket beyond its own fields: hand-offs to departments and their
answers, escalation by an agent, complaint extensions. Thin: who may, the service, the audit
row. The path parameter is the ticket number."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from crm import access, escalations, handoffs, sla_extensions
from crm.case_models import (
    EscalationPublic,
    EscalationRequest,
    EscalationTrigger,
    ExtensionRequest,
    HandoffAnswer,
    HandoffPublic,
    HandoffRequest,
    SlaExtensionPublic,
)
from crm.deps import ViewerDep
from crm.models import Department
from hotline.audit import AuditorDep
from hotline.auth import Supervisor
from hotline.deps import RowId, ServicesDep, SessionDep
from hotline.errors import ERROR_RESPONSES, Forbidden

router = APIRouter(prefix="/api/tickets", tags=["tickets"], responses=ERROR_RESPONSES)

TicketNumber = Annotated[str, Path(pattern=r"^T\d{8}-\d{4,}$", max_length=20)]


@router.post("/{number}/handoff", response_model=HandoffPublic, status_code=201)
def hand_off(
    number: TicketNumber,
    data: HandoffRequest,
    session: SessionDep,
    services: ServicesDep,
    viewer: ViewerDep,
    auditor: AuditorDep,
) -> HandoffPublic:
    """Put a question to a department (by code) with a due time (`due_at`, or `due_in_hours`
    of business hours); the ticket waits on it (pending_department)."""
    ticket = access.require_ticket(session=session, viewer=viewer, number=number)
    handoff = handoffs.hand_off(
        session=session,
        ticket=ticket,
        data=data,
        actor=auditor.actor,
        calendar=services.calendar,
        now=auditor.now,
    )
    auditor.record("ticket.handoff", "ticket", number, {"department": data.department})
    return handoffs.public(handoff, number, data.department)


@router.post("/{number}/handoffs/{handoff_id}/answer", response_model=HandoffPublic)
def answer_handoff(
    number: TicketNumber,
    handoff_id: RowId,
    data: HandoffAnswer,
    session: SessionDep,
    services: ServicesDep,
    viewer: ViewerDep,
    auditor: AuditorDep,
) -> HandoffPublic:
    """The department's answer (a member of it, or a supervisor); the ticket returns to its
    owner (open, same assignee)."""
    ticket = access.require_ticket(session=session, viewer=viewer, number=number)
    handoff = handoffs.require_handoff(session=session, ticket=ticket, handoff_id=handoff_id)
    if not viewer.sees_all and viewer.department_id != handoff.department_id:
        raise Forbidden("only the department asked, or a supervisor, may answer")
    handoffs.answer(
        session=session,
        ticket=ticket,
        handoff=handoff,
        text=data.answer,
        actor=auditor.actor,
        calendar=services.calendar,
        now=auditor.now,
    )
    auditor.record("ticket.handoff_answer", "ticket", number, {"handoff_id": handoff_id})
    department = session.get(Department, handoff.department_id)
    assert department is not None
    return handoffs.public(handoff, number, department.code)


@router.post("/{number}/escalate", response_model=EscalationPublic, status_code=201)
def escalate(
    response: Response,
    number: TicketNumber,
    data: EscalationRequest,
    session: SessionDep,
    services: ServicesDep,
    viewer: ViewerDep,
    auditor: AuditorDep,
) -> EscalationPublic:
    """Put the ticket before management with a reason; 200 with the open escalation if the
    ticket is escalated by hand already."""
    ticket = access.require_ticket(session=session, viewer=viewer, number=number)
    assert ticket.id is not None
    escalation, new = escalations.escalate(
        session=session,
        ticket_id=ticket.id,
        reason=data.reason,
        trigger=EscalationTrigger.manual,
        actor=auditor.actor,
        now=auditor.now,
        calendar=services.calendar,
    )
    if new:
        auditor.record("ticket.escalate", "ticket", number, {"escalation_id": escalation.id})
    else:
        response.status_code = 200
    return EscalationPublic.model_validate(escalation, update={"ticket": number})


@router.get("/{number}/extensions", response_model=list[SlaExtensionPublic])
def list_extensions(
    number: TicketNumber, session: SessionDep, viewer: ViewerDep
) -> list[SlaExtensionPublic]:
    ticket = access.require_ticket(session=session, viewer=viewer, number=number)
    return sla_extensions.extensions_of(session=session, ticket=ticket)


@router.post("/{number}/extensions", response_model=SlaExtensionPublic, status_code=201)
def request_extension(
    number: TicketNumber,
    data: ExtensionRequest,
    session: SessionDep,
    viewer: ViewerDep,
    auditor: AuditorDep,
) -> SlaExtensionPublic:
    """Ask for more time on a complaint (15 or 30 days); a supervisor approves it."""
    ticket = access.require_ticket(session=session, viewer=viewer, number=number)
    extension = sla_extensions.request_extension(
        session=session,
        ticket=ticket,
        days=data.days,
        reason=data.reason,
        actor=auditor.actor,
        now=auditor.now,
    )
    auditor.record("ticket.extension_request", "ticket", number, {"days": data.days})
    return sla_extensions.public(extension, ticket)


@router.post("/{number}/extensions/{extension_id}/approve", response_model=SlaExtensionPublic)
def approve_extension(
    number: TicketNumber,
    extension_id: RowId,
    session: SessionDep,
    services: ServicesDep,
    _supervisor: Supervisor,
    viewer: ViewerDep,
    auditor: AuditorDep,
) -> SlaExtensionPublic:
    """A supervisor grants the extension; the resolution clock moves by its days."""
    ticket = access.require_ticket(session=session, viewer=viewer, number=number)
    extension = sla_extensions.approve_extension(
        session=session,
        ticket=ticket,
        extension_id=extension_id,
        actor=auditor.actor,
        calendar=services.calendar,
        now=auditor.now,
    )
    auditor.record("ticket.extension_approve", "ticket", number, {"extension_id": extension_id})
    return sla_extensions.public(extension, ticket)
