"""The managers' and the departments' queues: escalations (supervisors and admins) with
their background packs, and hand-offs (a department's members, and supervisors)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from crm import escalations, handoffs
from crm.case_models import EscalationPublic, EscalationSummary, HandoffPublic
from crm.deps import ViewerDep
from hotline.audit import AuditorDep
from hotline.auth import Supervisor
from hotline.deps import RowId, SessionDep
from hotline.errors import ERROR_RESPONSES, Forbidden

router = APIRouter(prefix="/api", tags=["escalations"], responses=ERROR_RESPONSES)

EscalationId = RowId


@router.get("/handoffs", response_model=list[HandoffPublic])
def list_handoffs(
    session: SessionDep,
    viewer: ViewerDep,
    department: Annotated[str | None, Query(max_length=32)] = None,
    overdue: bool | None = None,
    answered: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[HandoffPublic]:
    """Hand-offs by due time. An agent sees their own department's (the default filter);
    supervisors see every department's."""
    department_id = (
        handoffs.department_by_code(session=session, code=department).id if department else None
    )
    if not viewer.sees_all:
        if viewer.department_id is None:
            raise Forbidden("only a department's members or a supervisor see hand-offs")
        if department_id not in (None, viewer.department_id):
            raise Forbidden("that is another department's queue")
        department_id = viewer.department_id
    return handoffs.list_handoffs(
        session=session,
        department_id=department_id,
        overdue=overdue,
        answered=answered,
        limit=limit,
        offset=offset,
    )


@router.get("/escalations", response_model=list[EscalationSummary])
def list_escalations(
    session: SessionDep,
    _supervisor: Supervisor,
    open: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[EscalationSummary]:
    """Newest first; `open=true`: those whose ticket is not resolved yet."""
    rows = escalations.list_escalations(session=session, only_open=open, limit=limit, offset=offset)
    return [
        EscalationSummary.model_validate(escalation, update={"ticket": number})
        for escalation, number in rows
    ]


@router.get("/escalations/{escalation_id}", response_model=EscalationPublic)
def get_escalation(
    escalation_id: EscalationId,
    session: SessionDep,
    _supervisor: Supervisor,
    auditor: AuditorDep,
) -> EscalationPublic:
    """One escalation with its background pack (a read of customer data: audited)."""
    escalation, number = escalations.require_escalation(
        session=session, escalation_id=escalation_id
    )
    auditor.record("escalation.read", "escalation", escalation_id, {"ticket": number})
    return EscalationPublic.model_validate(escalation, update={"ticket": number})


@router.post("/escalations/{escalation_id}/acknowledge", response_model=EscalationPublic)
def acknowledge(
    escalation_id: EscalationId,
    session: SessionDep,
    _supervisor: Supervisor,
    auditor: AuditorDep,
) -> EscalationPublic:
    escalation, number = escalations.require_escalation(
        session=session, escalation_id=escalation_id
    )
    escalations.acknowledge(
        session=session, escalation=escalation, actor=auditor.actor, now=auditor.now
    )
    auditor.record("escalation.acknowledge", "escalation", escalation_id, {"ticket": number})
    return EscalationPublic.model_validate(escalation, update={"ticket": number})
