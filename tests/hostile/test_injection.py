"""SQL and HTML in names and notes: stored verbatim, sent back verbatim as JSON (never as
markup), and harmless to the database. The pages build every element from data as text
(tests/pages: no innerHTML; the browser test shows a customer name with markup as text)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, inspect

from tests.crm.cases import add_agent, add_customer, call_sid, log_call
from tests.routing.staff import PASSWORD

PAYLOADS = [
    "'; DROP TABLE ticket; --",
    "Robert'); DROP TABLE customer;--",
    '" OR 1=1 --',
    "<script>alert('x')</script>",
    '<img src=x onerror="alert(1)">',
    "</textarea><svg/onload=alert(1)>",
    "{{7*7}} ${7*7} %s%n",
]


def assert_json(response: object) -> None:
    content_type = response.headers["content-type"]  # type: ignore[attr-defined]
    assert content_type.startswith("application/json"), content_type


def tables_intact(engine: Engine) -> None:
    names = set(inspect(engine).get_table_names())
    assert {"ticket", "customer", "agent", "ticket_event"} <= names


@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_customer_name_round_trips_verbatim(
    app_client: TestClient, admin_headers: dict[str, str], engine: Engine, payload: str
) -> None:
    created = app_client.post("/api/customers", json={"name": payload}, headers=admin_headers)
    assert created.status_code == 201, created.text
    read = app_client.get(f"/api/customers/{created.json()['id']}", headers=admin_headers)
    assert_json(read)
    assert read.json()["name"] == payload
    found = app_client.get("/api/customers", params={"name": payload}, headers=admin_headers)
    assert found.status_code == 200
    assert [customer["name"] for customer in found.json()] == [payload]
    tables_intact(engine)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_ticket_note_round_trips_verbatim(
    app_client: TestClient, engine: Engine, clock: object, payload: str
) -> None:
    me = add_agent(engine, clock, name="陈静", skills={"cards": 5})  # type: ignore[arg-type]
    customer = add_customer(engine, clock, phones=["+8613900139000"])  # type: ignore[arg-type]
    number = log_call(engine, clock, sid=call_sid(1), customer_id=customer, agent_id=me.agent_id)  # type: ignore[arg-type]
    noted = app_client.post(
        f"/api/tickets/{number}/notes", json={"text": payload}, headers=me.headers
    )
    assert noted.status_code == 201, noted.text
    ticket = app_client.get(f"/api/tickets/{number}", headers=me.headers)
    assert_json(ticket)
    notes = [event["data"] for event in ticket.json()["timeline"] if event["kind"] == "note"]
    assert [note["text"] for note in notes] == [payload]
    tables_intact(engine)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_an_agent_name_round_trips_and_login_fields_stay_inert(
    app_client: TestClient, admin_headers: dict[str, str], engine: Engine, payload: str
) -> None:
    body = {"name": payload, "login": "wang.fang", "password": PASSWORD, "skills": {"cards": 3}}
    created = app_client.post("/api/agents", json=body, headers=admin_headers)
    assert created.status_code == 201, created.text
    listed = app_client.get("/api/agents", headers=admin_headers)
    assert_json(listed)
    assert payload in [agent["name"] for agent in listed.json()]
    signed_in = app_client.post(
        "/api/auth/login", json={"login": "wang.fang", "password": PASSWORD}
    )
    assert signed_in.json()["agent"]["name"] == payload
    # As a login or a password, the same text is only a failed sign-in.
    for guess in (
        {"login": payload, "password": PASSWORD},
        {"login": "wang.fang", "password": payload},
    ):
        assert app_client.post("/api/auth/login", json=guess).status_code in (401, 422)
    tables_intact(engine)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_injection_in_search_filters_finds_nothing_and_breaks_nothing(
    app_client: TestClient, admin_headers: dict[str, str], engine: Engine, payload: str
) -> None:
    for path, params in [
        ("/api/tickets", {"category": payload}),
        ("/api/tickets", {"phone": payload}),
        ("/api/customers", {"phone": payload}),
        ("/api/handoffs", {"department": payload}),
        ("/api/audit", {"entity": payload}),
    ]:
        response = app_client.get(path, params=params, headers=admin_headers)
        assert response.status_code in (200, 404, 422), (path, response.text)
        assert_json(response)
        if response.status_code == 200:
            assert response.json() == []
    tables_intact(engine)
