"""Customer records: search, changes, merging two records of one person, and the 360 view."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement
from sqlmodel import Session, col, func, select, update

from crm.callbacks import PENDING as PENDING_CALLBACKS
from crm.models import (
    Callback,
    CallbackPublic,
    CallLog,
    Customer,
    CustomerCreate,
    CustomerOverview,
    CustomerPhone,
    CustomerPublic,
    CustomerUpdate,
    OverviewCall,
    Ticket,
    TicketPublic,
)
from crm.survey_models import Survey, SurveyPublic
from hotline.errors import Conflict, NotFound

# The one read outside the CRM's own tables: recordings of the customer's calls. The
# recordings domain depends on the CRM, so its (dependency-free) model is read directly.
from recordings.models import Recording


def phones_of(*, session: Session, customer_id: int) -> list[str]:
    return list(
        session.exec(
            select(CustomerPhone.number)
            .where(CustomerPhone.customer_id == customer_id)
            .order_by(col(CustomerPhone.id))
        )
    )


def public(*, session: Session, customer: Customer) -> CustomerPublic:
    assert customer.id is not None
    return CustomerPublic.model_validate(
        customer, update={"phones": phones_of(session=session, customer_id=customer.id)}
    )


def require_customer(*, session: Session, customer_id: int) -> Customer:
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise NotFound(f"no customer {customer_id}")
    return customer


def _check_phones_free(session: Session, phones: list[str], owner: int | None) -> None:
    if len(set(phones)) != len(phones):
        raise Conflict("a phone number is listed twice")
    taken = session.exec(
        select(CustomerPhone.number, CustomerPhone.customer_id).where(
            col(CustomerPhone.number).in_(phones)
        )
    ).all()
    clash = [number for number, customer_id in taken if customer_id != owner]
    if clash:
        raise Conflict(f"{len(clash)} phone number(s) already belong to another customer")


def create(*, session: Session, data: CustomerCreate, now: datetime) -> Customer:
    _check_phones_free(session, data.phones, None)
    customer = Customer.model_validate(
        data.model_dump(exclude={"phones"}), update={"created_at": now, "updated_at": now}
    )
    session.add(customer)
    session.flush()
    assert customer.id is not None
    for number in data.phones:
        session.add(CustomerPhone(customer_id=customer.id, number=number))
    session.flush()
    return customer


def update_customer(
    *, session: Session, customer: Customer, data: CustomerUpdate, now: datetime
) -> list[str]:
    """Apply the fields sent; the names of those that changed."""
    assert customer.id is not None
    changes = data.model_dump(exclude_unset=True)
    phones = changes.pop("phones", None)
    changed = [name for name, value in changes.items() if getattr(customer, name) != value]
    for name in changed:
        setattr(customer, name, changes[name])
    if phones is not None and phones != phones_of(session=session, customer_id=customer.id):
        _check_phones_free(session, phones, customer.id)
        for row in session.exec(
            select(CustomerPhone).where(CustomerPhone.customer_id == customer.id)
        ):
            session.delete(row)
        session.flush()
        for number in phones:
            session.add(CustomerPhone(customer_id=customer.id, number=number))
        changed.append("phones")
    if changed:
        customer.updated_at = now
        session.add(customer)
        session.flush()
    return changed


def search(
    *,
    session: Session,
    name: str | None = None,
    phone: str | None = None,
    scope: ColumnElement[bool] | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Customer], int]:
    """Customers by part of the name and/or an exact E.164 number; merged records left out."""
    conditions: list[ColumnElement[bool]] = [col(Customer.merged_into_id).is_(None)]
    if name:
        conditions.append(col(Customer.name).contains(name, autoescape=True))
    if phone:
        conditions.append(
            col(Customer.id).in_(
                select(CustomerPhone.customer_id).where(CustomerPhone.number == phone)
            )
        )
    if scope is not None:
        conditions.append(col(Customer.id).in_(select(Ticket.customer_id).where(scope)))
    total = session.exec(select(func.count()).select_from(Customer).where(*conditions)).one()
    rows = session.exec(
        select(Customer).where(*conditions).order_by(col(Customer.id)).offset(offset).limit(limit)
    )
    return list(rows), int(total)


def merge(*, session: Session, target: Customer, source: Customer, now: datetime) -> dict[str, int]:
    """Move the source's phones, tickets, calls and callbacks to the target; the source stays,
    marked as merged into the target. Returns how many rows of each moved."""
    if target.id == source.id:
        raise Conflict("a customer cannot be merged into itself")
    if source.merged_into_id is not None or target.merged_into_id is not None:
        raise Conflict("one of these customers was already merged into another")
    moved: dict[str, int] = {}
    for name, table, column in (
        ("phones", CustomerPhone, CustomerPhone.customer_id),
        ("tickets", Ticket, Ticket.customer_id),
        ("calls", CallLog, CallLog.customer_id),
        ("callbacks", Callback, Callback.customer_id),
    ):
        result = session.exec(
            update(table).where(col(column) == source.id).values({column: target.id})
        )
        moved[name] = int(result.rowcount)
    source.merged_into_id = target.id
    source.updated_at = now
    target.updated_at = now
    session.add_all([source, target])
    session.flush()
    session.expire_all()
    return moved


def overview(
    *, session: Session, customer: Customer, scope: ColumnElement[bool] | None
) -> CustomerOverview:
    """Profile, tickets, calls (with recording ids), open callbacks and surveys, at once."""
    assert customer.id is not None
    ticket_conditions: list[ColumnElement[bool]] = [col(Ticket.customer_id) == customer.id]
    if scope is not None:
        ticket_conditions.append(scope)
    tickets = list(
        session.exec(
            select(Ticket).where(*ticket_conditions).order_by(col(Ticket.last_contact_at).desc())
        )
    )
    numbers = {ticket.id: ticket.number for ticket in tickets}
    calls = list(
        session.exec(
            select(CallLog)
            .where(CallLog.customer_id == customer.id)
            .order_by(col(CallLog.started_at).desc())
        )
    )
    recordings: dict[str, list[int]] = {}
    if calls:
        for sid, recording_id in session.exec(
            select(Recording.call_sid, Recording.id).where(
                col(Recording.call_sid).in_([call.call_sid for call in calls])
            )
        ):
            assert recording_id is not None
            recordings.setdefault(sid, []).append(recording_id)
    callbacks = session.exec(
        select(Callback)
        .where(
            Callback.customer_id == customer.id,
            col(Callback.status).in_(PENDING_CALLBACKS),
        )
        .order_by(col(Callback.due_at))
    )
    return CustomerOverview(
        customer=public(session=session, customer=customer),
        tickets=[TicketPublic.model_validate(ticket) for ticket in tickets],
        calls=[
            OverviewCall.model_validate(
                call,
                update={
                    "ticket_number": numbers.get(call.ticket_id),
                    "recording_ids": sorted(recordings.get(call.call_sid, [])),
                },
            )
            for call in calls
            # Calls on tickets the viewer may not see stay out, with those tickets.
            if scope is None or call.ticket_id in numbers
        ],
        callbacks=[CallbackPublic.model_validate(callback) for callback in callbacks],
        surveys=[
            SurveyPublic.model_validate(survey).model_dump(mode="json")
            for survey in session.exec(
                select(Survey)
                .where(Survey.customer_id == customer.id)
                .order_by(col(Survey.due_at).desc())
            )
            if scope is None or survey.ticket_id in numbers
        ],
    )
