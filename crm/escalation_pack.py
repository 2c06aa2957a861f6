"""The background pack an escalation carries: what a manager needs to act without digging.

Built once, when the escalation is raised, and stored with it (JSON): the customer's profile
(phone numbers masked; card and account references are stored masked already), the ticket,
its timeline, its calls with their recordings, and the earlier escalations of the customer.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from crm.case_models import Escalation
from crm.customers import phones_of
from crm.models import CallLog, Customer, Department, Ticket, TicketEvent, TicketEventPublic
from hotline.phone import mask
from recordings.models import Recording


def _profile(session: Session, ticket: Ticket) -> dict[str, Any] | None:
    if ticket.customer_id is None:
        return None
    customer = session.get(Customer, ticket.customer_id)
    if customer is None:
        return None
    assert customer.id is not None
    return {
        "id": customer.id,
        "name": customer.name,
        "segment": str(customer.segment),
        "preferred_language": customer.preferred_language,
        "consent_sms": customer.consent_sms,
        "consent_calls": customer.consent_calls,
        "phones": [mask(number) for number in phones_of(session=session, customer_id=customer.id)],
        "account_ref_masked": customer.account_ref_masked,
        "masked_refs": list(customer.masked_refs),
    }


def _summary(session: Session, ticket: Ticket) -> dict[str, Any]:
    department = (
        session.get(Department, ticket.department_id) if ticket.department_id is not None else None
    )
    return {
        "number": ticket.number,
        "channel": str(ticket.channel),
        "category": ticket.category,
        "type": str(ticket.ticket_type),
        "complaint": ticket.complaint,
        "priority": ticket.priority,
        "severity": ticket.severity,
        "status": str(ticket.status),
        "subject": ticket.subject,
        "description": ticket.description,
        "assignee_id": ticket.assignee_id,
        "department": department.code if department is not None else None,
        "repeat_count": ticket.repeat_count,
        "contact_phone": mask(ticket.contact_phone) if ticket.contact_phone else None,
        "created_at": ticket.created_at.isoformat(),
        "first_response_due_at": _iso(ticket.first_response_due_at),
        "resolution_due_at": _iso(ticket.resolution_due_at),
        "breached": ticket.breached,
    }


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _timeline(session: Session, ticket: Ticket) -> list[dict[str, Any]]:
    events = session.exec(
        select(TicketEvent)
        .where(TicketEvent.ticket_id == ticket.id)
        .order_by(col(TicketEvent.at), col(TicketEvent.id))
    )
    return [TicketEventPublic.model_validate(event).model_dump(mode="json") for event in events]


def _calls(session: Session, ticket: Ticket) -> list[dict[str, Any]]:
    calls = list(
        session.exec(
            select(CallLog).where(CallLog.ticket_id == ticket.id).order_by(col(CallLog.started_at))
        )
    )
    sids = [call.call_sid for call in calls]
    recordings: dict[str, list[int]] = {}
    if sids:
        for recording in session.exec(
            select(Recording).where(col(Recording.call_sid).in_(sids)).order_by(col(Recording.id))
        ):
            assert recording.id is not None
            recordings.setdefault(recording.call_sid, []).append(recording.id)
    return [
        {
            "call_sid": call.call_sid,
            "direction": call.direction,
            "from": mask(call.from_number),
            "agent_id": call.agent_id,
            "language": call.language,
            "route": call.route,
            "disposition": str(call.disposition),
            "started_at": call.started_at.isoformat(),
            "answered_at": _iso(call.answered_at),
            "ended_at": _iso(call.ended_at),
            "duration_seconds": call.duration_seconds,
            "wrapup_code": call.wrapup_code,
            "recording_ids": recordings.get(call.call_sid, []),
        }
        for call in calls
    ]


def _previous_escalations(session: Session, ticket: Ticket) -> list[dict[str, Any]]:
    """Earlier escalations of this ticket and of the customer's other tickets."""
    owner = (
        col(Ticket.customer_id) == ticket.customer_id
        if ticket.customer_id is not None
        else col(Ticket.id) == ticket.id
    )
    rows = session.exec(
        select(Escalation, Ticket.number)
        .join(Ticket, col(Ticket.id) == col(Escalation.ticket_id))
        .where(owner)
        .order_by(col(Escalation.raised_at), col(Escalation.id))
    )
    return [
        {
            "id": escalation.id,
            "ticket": number,
            "trigger": str(escalation.trigger),
            "reason": escalation.reason,
            "raised_at": escalation.raised_at.isoformat(),
            "acknowledged_by": escalation.acknowledged_by,
            "closed_at": _iso(escalation.closed_at),
        }
        for escalation, number in rows
    ]


def build_pack(*, session: Session, ticket: Ticket) -> dict[str, Any]:
    return {
        "customer": _profile(session, ticket),
        "ticket": _summary(session, ticket),
        "timeline": _timeline(session, ticket),
        "calls": _calls(session, ticket),
        "previous_escalations": _previous_escalations(session, ticket),
    }
