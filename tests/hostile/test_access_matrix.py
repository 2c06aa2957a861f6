"""The access matrix, completed: the routes the per-module tables leave out, each × anonymous /
the agent whose case it is / another agent / a supervisor / an admin; and a check that every
route of the app sits in some table (tests/hostile/test_access_complete.py)."""

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
from tests.crm.case_work import add_recording
from tests.crm.cases import add_agent, add_customer, call_sid, log_call
from tests.crm.test_crm_access import fill
from tests.routing.staff import Staff

WHO = ("anonymous", "me", "other", "supervisor", "admin")
SID = call_sid(7)
ADMIN = {"Authorization": "Bearer test-admin-token-0123456789abcdef"}

# route × who → status. {n}: a complaint "me" took the call of; {h}: its hand-off to the card
# centre (neither agent's department); {x}: its extension request; {e}: its escalation;
# {r}: its call's recording. {SID}'s caller is not waiting (409 for those who may move one).
MATRIX: list[tuple[str, str, dict[str, Any] | None, tuple[int, ...]]] = [
    ("POST", "/api/tickets/{n}/handoff",
     {"department": "card_centre", "question": "卡片寄往何处?", "due_in_hours": 4},
     (401, 201, 403, 201, 201)),
    ("POST", "/api/tickets/{n}/handoffs/{h}/answer", {"answer": "已寄出"},
     (401, 403, 403, 200, 200)),
    ("POST", "/api/tickets/{n}/escalate", {"reason": "客户要求"}, (401, 200, 403, 200, 200)),
    ("GET", "/api/tickets/{n}/extensions", None, (401, 200, 403, 200, 200)),
    # One request at a time: past the access check, the pending {x} makes it a conflict.
    ("POST", "/api/tickets/{n}/extensions", {"days": 30, "reason": "调查中"},
     (401, 409, 403, 409, 409)),
    ("POST", "/api/tickets/{n}/extensions/{x}/approve", None, (401, 403, 403, 200, 200)),
    ("GET", "/api/handoffs", None, (401, 403, 403, 200, 200)),
    ("GET", "/api/escalations", None, (401, 403, 403, 200, 200)),
    ("GET", "/api/escalations/{e}", None, (401, 403, 403, 200, 200)),
    ("POST", "/api/escalations/{e}/acknowledge", None, (401, 403, 403, 200, 200)),
    ("GET", "/api/recordings/{r}", None, (401, 200, 403, 200, 200)),
    ("GET", "/api/recordings/{r}/accesses", None, (401, 403, 403, 403, 200)),
    ("POST", "/api/tickets/{n}/legal-hold", {"reason": "诉讼"}, (401, 403, 403, 201, 201)),
    ("DELETE", "/api/tickets/{n}/legal-hold", None, (401, 403, 403, 404, 404)),
    ("GET", "/api/agents/me/call", None, (401, 200, 200, 200, 200)),
    ("GET", "/api/supervisor/history", None, (401, 403, 403, 200, 200)),
    ("PATCH", f"/api/supervisor/calls/{SID}", {"priority": 1}, (401, 403, 403, 409, 409)),
    ("POST", "/api/auth/login", {"login": "nobody@bank.example", "password": "x"},
     (401, 401, 401, 401, 401)),
]  # fmt: skip
CASES = [
    pytest.param(method, path, body, who, status, id=f"{method} {path} as {who}")
    for method, path, body, statuses in MATRIX
    for who, status in zip(WHO, statuses, strict=True)
]

# Routes that ask nobody for a token: the same answer for everyone, token or not.
OPEN: list[tuple[str, str, int]] = [
    ("GET", "/healthz", 200),
    ("GET", "/readyz", 200),
    ("GET", "/openapi.json", 200),
    ("GET", "/docs", 200),
    ("GET", "/docs/oauth2-redirect", 200),
    ("GET", "/redoc", 200),
    ("GET", "/", 307),
    ("GET", "/login", 200),
    ("GET", "/agent", 200),
    ("GET", "/supervisor", 200),
    ("GET", "/pages/api.js", 200),
    # Its own token (HOTLINE_METRICS_TOKEN), unset here: not there at all for anyone.
    ("GET", "/metrics", 404),
]


@dataclass(frozen=True)
class World:
    people: dict[str, Staff]
    names: dict[str, str]


@pytest.fixture
def world(app_client: TestClient, engine: Engine, clock: FrozenClock) -> World:
    with session_scope(engine) as session:
        crm.create_department(
            session=session, code="card_centre", name_zh="信用卡中心", name_en="Card centre"
        )
    people = {
        "me": add_agent(engine, clock, name="陈静", skills={"cards": 5}),
        "other": add_agent(engine, clock, name="刘洋", skills={"cards": 8}),
        "supervisor": add_agent(engine, clock, name="赵磊", role=Role.supervisor),
        "admin": add_agent(engine, clock, name="Admin", role=Role.admin),
    }
    customer = add_customer(engine, clock, phones=["+8613900139000"])
    number = log_call(engine, clock, sid=SID, customer_id=customer, agent_id=people["me"].agent_id)
    recording = add_recording(engine, clock, call_sid=SID)

    def made(path: str, body: dict[str, Any]) -> str:
        response = app_client.post(path, json=body, headers=ADMIN)
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    base = f"/api/tickets/{number}"
    names = {
        "n": number,
        "r": str(recording),
        "h": made(f"{base}/handoff",
                  {"department": "card_centre", "question": "地址?", "due_in_hours": 8}),
        "x": made(f"{base}/extensions", {"days": 15, "reason": "待银联答复"}),
        "e": made(f"{base}/escalate", {"reason": "客户投诉升级"}),
    }  # fmt: skip
    return World(people=people, names=names)


@pytest.mark.parametrize(("method", "path", "body", "who", "status"), CASES)
def test_who_may_call_each_remaining_route(
    app_client: TestClient,
    world: World,
    method: str,
    path: str,
    body: dict[str, Any] | None,
    who: str,
    status: int,
) -> None:
    headers = {} if who == "anonymous" else world.people[who].headers
    response = app_client.request(
        method, fill(path, world.names), json=fill(body, world.names), headers=headers
    )
    assert response.status_code == status, response.text
    if status >= 400:
        assert response.json()["error"] in ("unauthorized", "forbidden", "not_found", "conflict")


@pytest.mark.parametrize(("method", "path", "status"), OPEN)
def test_open_routes_answer_everyone_alike(
    app_client: TestClient, admin_headers: dict[str, str], method: str, path: str, status: int
) -> None:
    for headers in ({}, admin_headers, {"Authorization": "Bearer not-a-token"}):
        response = app_client.request(method, path, headers=headers, follow_redirects=False)
        assert response.status_code == status, (headers, response.text)
