"""REST routes for customer records and the customer 360 view. Every change and every read
of an overview writes an audit row."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from crm import access, customers
from crm.deps import ViewerDep
from crm.models import (
    CustomerCreate,
    CustomerMerge,
    CustomerOverview,
    CustomerPublic,
    CustomerUpdate,
)
from hotline.audit import AuditorDep
from hotline.auth import Supervisor
from hotline.deps import RowId, SessionDep
from hotline.errors import ERROR_RESPONSES, Invalid
from hotline.phone import to_e164

router = APIRouter(prefix="/api/customers", tags=["customers"], responses=ERROR_RESPONSES)

CustomerId = RowId


@router.get("", response_model=list[CustomerPublic])
def search_customers(
    response: Response,
    session: SessionDep,
    viewer: ViewerDep,
    name: Annotated[str | None, Query(min_length=1, max_length=120)] = None,
    phone: Annotated[str | None, Query(max_length=32)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[CustomerPublic]:
    """By part of the name and/or a phone number; agents find only customers with a case
    they may see. The number of matches in `X-Total-Count`."""
    e164 = None
    if phone is not None:
        e164 = to_e164(phone)
        if e164 is None:
            raise Invalid("phone: not a phone number; use E.164, e.g. +8613800138000")
    rows, total = customers.search(
        session=session,
        name=name,
        phone=e164,
        scope=access.ticket_scope(session=session, viewer=viewer),
        limit=limit,
        offset=offset,
    )
    response.headers["X-Total-Count"] = str(total)
    return [customers.public(session=session, customer=row) for row in rows]


@router.post("", response_model=CustomerPublic, status_code=201)
def create_customer(
    data: CustomerCreate, session: SessionDep, auditor: AuditorDep
) -> CustomerPublic:
    """A new record; card and account references must be masked (first 6 + last 4 at most)."""
    customer = customers.create(session=session, data=data, now=auditor.now)
    assert customer.id is not None
    auditor.record("customer.create", "customer", customer.id)
    return customers.public(session=session, customer=customer)


@router.get("/{customer_id}", response_model=CustomerPublic)
def get_customer(customer_id: CustomerId, session: SessionDep, viewer: ViewerDep) -> CustomerPublic:
    customer = customers.require_customer(session=session, customer_id=customer_id)
    access.require_customer_access(session=session, viewer=viewer, customer_id=customer_id)
    return customers.public(session=session, customer=customer)


@router.patch("/{customer_id}", response_model=CustomerPublic)
def update_customer(
    customer_id: CustomerId,
    data: CustomerUpdate,
    session: SessionDep,
    viewer: ViewerDep,
    auditor: AuditorDep,
) -> CustomerPublic:
    customer = customers.require_customer(session=session, customer_id=customer_id)
    access.require_customer_access(session=session, viewer=viewer, customer_id=customer_id)
    changed = customers.update_customer(
        session=session, customer=customer, data=data, now=auditor.now
    )
    if changed:
        auditor.record("customer.update", "customer", customer_id, {"fields": changed})
    return customers.public(session=session, customer=customer)


@router.post("/{customer_id}/merge", response_model=CustomerPublic)
def merge_customers(
    customer_id: CustomerId,
    data: CustomerMerge,
    session: SessionDep,
    _: Supervisor,
    auditor: AuditorDep,
) -> CustomerPublic:
    """Merge the record `from` into this one (supervisors): phones, tickets, calls and
    callbacks move here; `from` stays, marked as merged into this one."""
    target = customers.require_customer(session=session, customer_id=customer_id)
    source = customers.require_customer(session=session, customer_id=data.from_id)
    moved = customers.merge(session=session, target=target, source=source, now=auditor.now)
    auditor.record("customer.merge", "customer", customer_id, {"from": data.from_id, **moved})
    return customers.public(
        session=session,
        customer=customers.require_customer(session=session, customer_id=customer_id),
    )


@router.get("/{customer_id}/overview", response_model=CustomerOverview)
def customer_overview(
    customer_id: CustomerId, session: SessionDep, viewer: ViewerDep, auditor: AuditorDep
) -> CustomerOverview:
    """Customer 360 in one answer: profile, tickets, calls with recording ids, open
    callbacks, surveys. Every read is audited."""
    customer = customers.require_customer(session=session, customer_id=customer_id)
    access.require_customer_access(session=session, viewer=viewer, customer_id=customer_id)
    auditor.record("customer.overview", "customer", customer_id)
    return customers.overview(
        session=session,
        customer=customer,
        scope=access.ticket_scope(session=session, viewer=viewer),
    )
