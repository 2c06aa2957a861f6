"""Who may call each CRM route: anonymous, the agent whose case it is, another agent, a
supervisor, an admin. The case is a complaint whose call "me" took; "other" serves cards."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from crm import service as crm
from hotline.auth import Role
from hotline.clock import FrozenClock
from hotline.db import session_scope
from tests.crm.cases import add_agent, add_customer, call_sid, log_call
from tests.routing.staff import Staff

WHO = ("anonymous", "me", "other", "supervisor", "admin")
SID = call_sid(1)

# route × who → status. {n} and {n2}: two complaint tickets "me" took the calls of;
# {c} and {c2}: their customers.
MATRIX: list[tuple[str, str, dict[str, Any] | None, tuple[int, ...]]] = [
    ("GET", "/api/tickets", None, (401, 200, 200, 200, 200)),
    ("POST", "/api/tickets", {"category": "other", "subject": "x"}, (401, 201, 201, 201, 201)),
    ("GET", "/api/tickets/{n}", None, (401, 200, 403, 200, 200)),
    ("PATCH", "/api/tickets/{n}", {"priority": 1}, (401, 200, 403, 200, 200)),
    ("POST", "/api/tickets/{n}/notes", {"text": "已致电"}, (401, 201, 403, 201, 201)),
    ("POST", "/api/tickets/{n}/transition", {"to": "open"}, (401, 200, 403, 200, 200)),
    ("POST", "/api/tickets/{n}/merge", {"into": "{n2}"}, (401, 200, 403, 200, 200)),
    ("POST", "/api/tickets/{n}/links", {"number": "{n2}"}, (401, 201, 403, 201, 201)),
    ("GET", f"/api/calls/{SID}", None, (401, 200, 403, 200, 200)),
    ("POST", f"/api/calls/{SID}/wrap-up", {"code": "answered"}, (401, 200, 403, 200, 200)),
    ("GET", "/api/customers", None, (401, 200, 200, 200, 200)),
    ("POST", "/api/customers", {"name": "新客户"}, (401, 201, 201, 201, 201)),
    ("GET", "/api/customers/{c}", None, (401, 200, 403, 200, 200)),
    ("PATCH", "/api/customers/{c}", {"consent_sms": False}, (401, 200, 403, 200, 200)),
    ("GET", "/api/customers/{c}/overview", None, (401, 200, 403, 200, 200)),
    ("POST", "/api/customers/{c}/merge", {"from": "{c2}"}, (401, 403, 403, 200, 200)),
    ("GET", "/api/audit", None, (401, 403, 403, 403, 200)),
    ("GET", "/api/ticket-codes", None, (401, 200, 200, 200, 200)),
    ("GET", "/api/ticket-categories", None, (401, 200, 200, 200, 200)),
    (
        "POST",
        "/api/ticket-categories",
        {"code": "cards.annual_fee", "name_zh": "年费", "name_en": "Annual fee"},
        (401, 403, 403, 403, 201),
    ),
    ("PATCH", "/api/ticket-categories/other", {"active": False}, (401, 403, 403, 403, 200)),
]
CASES = [
    pytest.param(method, path, body, who, status, id=f"{method} {path} as {who}")
    for method, path, body, statuses in MATRIX
    for who, status in zip(WHO, statuses, strict=True)
]


@dataclass(frozen=True)
class Case:
    people: dict[str, Staff]
    names: dict[str, str]


@pytest.fixture
def case(app_client: TestClient, engine: Engine, clock: FrozenClock) -> Case:
    people = {
        "me": add_agent(engine, clock, name="陈静", skills={"cards": 5}),
        "other": add_agent(engine, clock, name="刘洋", skills={"cards": 8}),
        "supervisor": add_agent(engine, clock, name="赵磊", role=Role.supervisor),
        "admin": add_agent(engine, clock, name="Admin", role=Role.admin),
    }
    me = people["me"].agent_id
    customer = add_customer(engine, clock, phones=["+8613900139000"])
    other_customer = add_customer(engine, clock, name="李 娜", phones=["+8613700137000"])
    first = log_call(engine, clock, sid=SID, customer_id=customer, agent_id=me)
    second = log_call(
        engine, clock, sid=call_sid(2), customer_id=other_customer, agent_id=me,
        phone="+8613700137000", category="complaint.fees",
    )  # fmt: skip
    names = {"n": first, "n2": second, "c": str(customer), "c2": str(other_customer)}
    return Case(people=people, names=names)


def fill(value: Any, names: dict[str, str]) -> Any:
    if isinstance(value, str):
        filled = value.format(**names)
        return int(filled) if value in ("{c}", "{c2}") else filled
    if isinstance(value, dict):
        return {key: fill(item, names) for key, item in value.items()}
    return value


@pytest.mark.parametrize(("method", "path", "body", "who", "status"), CASES)
def test_who_may_call_each_crm_route(
    app_client: TestClient,
    case: Case,
    method: str,
    path: str,
    body: dict[str, Any] | None,
    who: str,
    status: int,
) -> None:
    headers = {} if who == "anonymous" else case.people[who].headers
    response = app_client.request(
        method, fill(path, case.names), json=fill(body, case.names), headers=headers
    )
    assert response.status_code == status, response.text


def test_an_agent_sees_the_tickets_of_their_department(
    app_client: TestClient, engine: Engine, clock: FrozenClock
) -> None:
    with session_scope(engine) as session:
        department = crm.create_department(
            session=session, code="card_centre", name_zh="信用卡中心", name_en="Card centre"
        )
    assert department.id is not None
    member = add_agent(engine, clock, name="周敏", skills={}, department_id=department.id)
    outsider = add_agent(engine, clock, name="吴昊", skills={})
    number = log_call(engine, clock, sid=SID)
    admin = add_agent(engine, clock, name="Admin", role=Role.admin)
    handed = app_client.patch(
        f"/api/tickets/{number}", json={"department": department.id}, headers=admin.headers
    )
    assert handed.status_code == 200
    assert app_client.get(f"/api/tickets/{number}", headers=member.headers).status_code == 200
    assert app_client.get(f"/api/tickets/{number}", headers=outsider.headers).status_code == 403
