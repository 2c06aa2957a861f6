"""The agent routes: who may call each, what they return, and what they refuse."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import jwt
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session

from hotline.clock import FrozenClock
from hotline.db import session_scope
from hotline.settings import DEV_API_KEY_SECRET, DEV_API_KEY_SID
from routing import access
from routing.models import Agent, AgentState
from tests.conftest import ADMIN_TOKEN, TEST_ACCOUNT
from tests.routing.staff import PASSWORD, People, add_people

WHO = ("anonymous", "me", "other", "supervisor", "admin", "admin_token")

NEW_AGENT = {
    "name": "王芳",
    "login": "wang.fang@bank.example",
    "password": PASSWORD,
    "skills": {"cards": 8, "complaints": 5},
    "languages": ["zh", "en"],
    "phone_number": "+8613800138000",
}

# route × who → status. "me" is the agent the {me} routes name; "admin_token" is
# HOTLINE_ADMIN_TOKEN, the bootstrap admin who is no agent.
MATRIX: list[tuple[str, str, dict[str, Any] | None, tuple[int, ...]]] = [
    ("POST", "/api/agents", NEW_AGENT, (401, 403, 403, 403, 201, 201)),
    ("GET", "/api/agents", None, (401, 403, 403, 200, 200, 200)),
    ("GET", "/api/agents/me", None, (401, 200, 200, 200, 200, 403)),
    ("GET", "/api/agents/me/voice-token", None, (401, 200, 200, 200, 200, 403)),
    ("GET", "/api/agents/{me}", None, (401, 200, 403, 200, 200, 200)),
    ("PATCH", "/api/agents/{me}", {"name": "陈 静"}, (401, 200, 403, 200, 200, 200)),
    ("PATCH", "/api/agents/{me}", {"skills": {"loans": 3}}, (401, 403, 403, 200, 200, 200)),
    ("PATCH", "/api/agents/{me}", {"role": "supervisor"}, (401, 403, 403, 403, 200, 200)),
    ("DELETE", "/api/agents/{me}", None, (401, 403, 403, 403, 204, 204)),
    ("PUT", "/api/agents/{me}/state", {"state": "available"}, (401, 200, 403, 200, 200, 200)),
    ("GET", "/api/agents/{me}/state-history", None, (401, 200, 403, 200, 200, 200)),
    ("POST", "/api/auth/logout", None, (401, 204, 204, 204, 204, 403)),
    ("GET", "/api/auth/tokens", None, (401, 200, 200, 200, 200, 403)),
    ("POST", "/api/auth/tokens", {"name": "crm-sync"}, (401, 201, 201, 201, 201, 403)),
    ("DELETE", "/api/auth/tokens/{my_token}", None, (401, 204, 403, 403, 204, 204)),
    ("GET", "/api/tickets", None, (401, 200, 200, 200, 200, 200)),
    ("GET", "/api/tickets/T20261124-0001", None, (401, 404, 404, 404, 404, 404)),
    ("GET", f"/api/calls/CA{'0' * 32}", None, (401, 404, 404, 404, 404, 404)),
]
CASES = [
    pytest.param(method, path, body, who, status, id=f"{method} {path} {body or ''} as {who}")
    for method, path, body, statuses in MATRIX
    for who, status in zip(WHO, statuses, strict=True)
]


@pytest.fixture
def people(engine: Engine, clock: FrozenClock) -> People:
    return add_people(engine, clock)


def headers_of(people: People, who: str) -> dict[str, str]:
    if who == "anonymous":
        return {}
    if who == "admin_token":
        return {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    staff = getattr(people, who)
    assert staff is not None
    return dict(staff.headers)


@pytest.mark.parametrize(("method", "path", "body", "who", "status"), CASES)
def test_who_may_call_each_route(
    app_client: TestClient,
    engine: Engine,
    clock: FrozenClock,
    people: People,
    method: str,
    path: str,
    body: dict[str, Any] | None,
    who: str,
    status: int,
) -> None:
    with session_scope(engine) as session:
        my_token = access.issue_token(
            session=session,
            agent_id=people.me.agent_id,
            name="laptop",
            now=clock.now(),
            expires_at=clock.now() + timedelta(days=30),
        )
    url = path.format(me=people.me.agent_id, my_token=my_token.id)
    response = app_client.request(method, url, json=body, headers=headers_of(people, who))
    assert response.status_code == status, response.text
    if status >= 400:
        expected = {401: "unauthorized", 403: "forbidden", 404: "not_found"}[status]
        assert response.json()["error"] == expected


def test_an_admin_creates_an_agent_who_can_sign_in(
    app_client: TestClient, admin_headers: dict[str, str]
) -> None:
    created = app_client.post("/api/agents", json=NEW_AGENT, headers=admin_headers)
    assert created.status_code == 201
    agent = created.json()
    assert "password" not in agent and "password_hash" not in agent
    assert agent["state"] == "offline" and agent["active"] is True
    assert agent["client_identity"] == f"agent_{agent['id']}"
    assert agent["skills"] == {"cards": 8, "complaints": 5}

    login = {"login": "Wang.Fang@bank.example ", "password": PASSWORD}
    signed_in = app_client.post("/api/auth/login", json=login)
    assert signed_in.status_code == 200
    assert signed_in.json()["agent"]["id"] == agent["id"]


def test_a_login_is_taken_once(app_client: TestClient, admin_headers: dict[str, str]) -> None:
    assert app_client.post("/api/agents", json=NEW_AGENT, headers=admin_headers).status_code == 201
    again = app_client.post("/api/agents", json=NEW_AGENT, headers=admin_headers)
    assert again.status_code == 409
    assert again.json()["error"] == "conflict"


def test_an_unknown_department_is_a_conflict(
    app_client: TestClient, admin_headers: dict[str, str]
) -> None:
    body = {**NEW_AGENT, "department_id": 999}
    response = app_client.post("/api/agents", json=body, headers=admin_headers)
    assert response.status_code == 409
    assert response.json() == {"error": "conflict", "detail": "no department 999"}


@pytest.mark.parametrize(
    ("change", "location"),
    [
        ({"skills": {"cards": 11}}, ["body", "skills", "cards"]),
        ({"skills": {"cards": 0}}, ["body", "skills", "cards"]),
        ({"skills": {"Cards!": 5}}, ["body", "skills", "Cards!", "[key]"]),
        ({"languages": ["fr"]}, ["body", "languages", 0]),
        ({"phone_number": "12345"}, ["body", "phone_number"]),
        ({"phone_number": "+86 12"}, ["body", "phone_number"]),
        ({"role": "owner"}, ["body", "role"]),
        ({"login": "x"}, ["body", "login"]),
        ({"password": "short"}, ["body", "password"]),
    ],
)
def test_bad_input_is_a_422_with_the_error_shape(
    app_client: TestClient,
    admin_headers: dict[str, str],
    change: dict[str, Any],
    location: list[Any],
) -> None:
    response = app_client.post("/api/agents", json={**NEW_AGENT, **change}, headers=admin_headers)
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "validation_error"
    assert location in [item["loc"] for item in body["detail"]]


def test_phone_numbers_are_stored_in_e164(
    app_client: TestClient, admin_headers: dict[str, str]
) -> None:
    body = {**NEW_AGENT, "phone_number": "+86 138-0013-8000"}
    response = app_client.post("/api/agents", json=body, headers=admin_headers)
    assert response.json()["phone_number"] == "+8613800138000"


def test_a_patch_changes_only_what_is_sent(
    app_client: TestClient, people: People, admin_headers: dict[str, str]
) -> None:
    url = f"/api/agents/{people.me.agent_id}"
    response = app_client.patch(url, json={"skills": {"loans": 7}}, headers=admin_headers)
    assert response.status_code == 200
    agent = response.json()
    assert agent["skills"] == {"loans": 7} and agent["name"] == "陈静"
    bad = app_client.patch(url, json={"languages": ["de"]}, headers=admin_headers)
    assert bad.status_code == 422


def test_a_supervisor_is_told_which_fields_need_an_admin(
    app_client: TestClient, people: People
) -> None:
    response = app_client.patch(
        f"/api/agents/{people.me.agent_id}",
        json={"skills": {"cards": 9}, "password": "a new long password", "role": "admin"},
        headers=people.supervisor.headers,
    )
    assert response.status_code == 403
    assert response.json()["detail"]["fields"] == ["password", "role"]


def test_an_admin_resets_a_password(
    app_client: TestClient, people: People, admin_headers: dict[str, str]
) -> None:
    url = f"/api/agents/{people.me.agent_id}"
    change = {"login": "chen.jing", "password": "a brand new password"}
    assert app_client.patch(url, json=change, headers=admin_headers).status_code == 200
    login = {"login": "chen.jing", "password": "a brand new password"}
    assert app_client.post("/api/auth/login", json=login).status_code == 200


def test_deactivating_revokes_tokens_and_takes_the_agent_offline(
    app_client: TestClient, engine: Engine, people: People, admin_headers: dict[str, str]
) -> None:
    me = f"/api/agents/{people.me.agent_id}"
    state = {"state": "available"}
    assert app_client.put(f"{me}/state", json=state, headers=people.me.headers).status_code == 200

    assert app_client.delete(me, headers=admin_headers).status_code == 204

    assert app_client.get("/api/agents/me", headers=people.me.headers).status_code == 401
    with Session(engine) as session:
        agent = session.get(Agent, people.me.agent_id)
        assert agent is not None and not agent.active and agent.state == AgentState.offline
    listed = app_client.get("/api/agents", headers=admin_headers).json()
    assert people.me.agent_id not in [agent["id"] for agent in listed]
    everyone = app_client.get("/api/agents?include_inactive=true", headers=admin_headers).json()
    assert people.me.agent_id in [agent["id"] for agent in everyone]
    history = app_client.get(f"{me}/state-history", headers=admin_headers).json()
    assert history[0]["to_state"] == "offline" and history[0]["reason"] == "deactivated"


def test_an_admin_may_not_deactivate_themselves(app_client: TestClient, people: People) -> None:
    response = app_client.delete(
        f"/api/agents/{people.admin.agent_id}", headers=people.admin.headers
    )
    assert response.status_code == 403


def test_unknown_agents_are_404(app_client: TestClient, admin_headers: dict[str, str]) -> None:
    for method in ("GET", "PATCH", "DELETE"):
        response = app_client.request(method, "/api/agents/999", json={}, headers=admin_headers)
        assert response.status_code == 404
        assert response.json() == {"error": "not_found", "detail": "no agent 999"}
    assert app_client.get("/api/agents/abc", headers=admin_headers).status_code == 422


def test_the_voice_token_is_for_the_agents_own_identity(
    app_client: TestClient, people: People
) -> None:
    response = app_client.get("/api/agents/me/voice-token", headers=people.me.headers)
    assert response.status_code == 200
    body = response.json()
    identity = f"agent_{people.me.agent_id}"
    assert body["identity"] == identity and body["expires_in"] == 3600
    # PyJWT comes with twilio: it checks the signature with the API key's secret too.
    payload = jwt.decode(body["token"], DEV_API_KEY_SECRET, algorithms=["HS256"])
    assert payload["iss"] == DEV_API_KEY_SID and payload["sub"] == TEST_ACCOUNT
    assert payload["exp"] - payload["nbf"] == 3600
    grants = payload["grants"]
    assert grants["identity"] == identity
    assert grants["voice"]["incoming"] == {"allow": True}
    assert grants["voice"]["outgoing"]["application_sid"].startswith("AP")


def test_the_admin_token_has_no_voice_token(
    app_client: TestClient, admin_headers: dict[str, str]
) -> None:
    response = app_client.get("/api/agents/me/voice-token", headers=admin_headers)
    assert response.status_code == 403
    assert "sign in as an agent" in response.json()["detail"]
