"""Ticket lists: filters, sort orders, pages, and what an agent's list leaves out."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from hotline.clock import FrozenClock
from tests.crm.cases import Crew, add_crew, add_customer, call_sid, log_call


@pytest.fixture
def crew(app_client: TestClient, engine: Engine, clock: FrozenClock) -> Crew:
    return add_crew(engine, clock)


def open_ticket(client: TestClient, crew: Crew, **fields: Any) -> str:
    body = {"category": "cards.bills", "subject": "账单", **fields}
    response = client.post("/api/tickets", json=body, headers=crew.supervisor.headers)
    assert response.status_code == 201, response.text
    number: str = response.json()["number"]
    return number


def numbers(client: TestClient, crew: Crew, query: str) -> list[str]:
    response = client.get(f"/api/tickets?{query}", headers=crew.supervisor.headers)
    assert response.status_code == 200, response.text
    return [ticket["number"] for ticket in response.json()]


def test_filters_by_category_with_its_children(
    app_client: TestClient, clock: FrozenClock, crew: Crew
) -> None:
    bills = open_ticket(app_client, crew, category="cards.bills")
    cards = open_ticket(app_client, crew, category="cards")
    open_ticket(app_client, crew, category="accounts")
    assert sorted(numbers(app_client, crew, "category=cards")) == sorted([bills, cards])
    assert numbers(app_client, crew, "category=cards.bills") == [bills]


def test_status_repeats(app_client: TestClient, crew: Crew) -> None:
    first = open_ticket(app_client, crew)
    second = open_ticket(app_client, crew)
    open_ticket(app_client, crew)
    app_client.post(
        f"/api/tickets/{first}/transition", json={"to": "open"}, headers=crew.supervisor.headers
    )
    app_client.post(
        f"/api/tickets/{second}/transition",
        json={"to": "pending_customer"},
        headers=crew.supervisor.headers,
    )
    found = numbers(app_client, crew, "status=open&status=pending_customer")
    assert sorted(found) == sorted([first, second])


def test_filters_by_assignee_and_department(
    app_client: TestClient, engine: Engine, clock: FrozenClock, crew: Crew
) -> None:
    mine = open_ticket(app_client, crew, assignee_id=crew.cards.agent_id)
    open_ticket(app_client, crew)
    assert numbers(app_client, crew, f"assignee={crew.cards.agent_id}") == [mine]
    assert numbers(app_client, crew, "department=1") == []


def test_filters_by_phone_of_customer_or_contact(
    app_client: TestClient, engine: Engine, clock: FrozenClock, crew: Crew
) -> None:
    customer_id = add_customer(engine, clock, phones=["+8613900139000", "+861065550100"])
    known = log_call(engine, clock, sid=call_sid(1), customer_id=customer_id)
    stranger = log_call(engine, clock, sid=call_sid(2), phone="+8613612345678")
    assert numbers(app_client, crew, "phone=%2B861065550100") == [known]
    assert numbers(app_client, crew, "phone=%2B8613612345678") == [stranger]
    assert numbers(app_client, crew, f"customer_id={customer_id}") == [known]
    bad = app_client.get("/api/tickets?phone=hello", headers=crew.supervisor.headers)
    assert bad.status_code == 422


def test_filters_by_bank_local_creation_day(
    app_client: TestClient, clock: FrozenClock, crew: Crew
) -> None:
    first = open_ticket(app_client, crew)  # 2026-11-24 10:00 Shanghai
    clock.advance(86400)
    second = open_ticket(app_client, crew)
    assert numbers(app_client, crew, "created_from=2026-11-25") == [second]
    assert numbers(app_client, crew, "created_to=2026-11-24") == [first]


def test_filters_by_breach(app_client: TestClient, crew: Crew) -> None:
    open_ticket(app_client, crew)
    assert numbers(app_client, crew, "breach=true") == []
    assert len(numbers(app_client, crew, "breach=false")) == 1


def test_sorts_and_pages_with_a_total(
    app_client: TestClient, clock: FrozenClock, crew: Crew
) -> None:
    made = []
    for priority in (3, 1, 4, 2):
        made.append(open_ticket(app_client, crew, priority=priority))
        clock.advance(60)
    assert numbers(app_client, crew, "sort=priority") == [made[1], made[3], made[0], made[2]]
    assert numbers(app_client, crew, "sort=created_at&limit=2&offset=1") == made[1:3]
    response = app_client.get("/api/tickets?limit=1", headers=crew.supervisor.headers)
    assert response.headers["X-Total-Count"] == "4"
    assert [t["number"] for t in response.json()] == [made[3]]


def test_an_agent_lists_only_tickets_of_their_queues_calls_and_assignments(
    app_client: TestClient, engine: Engine, clock: FrozenClock, crew: Crew
) -> None:
    complaint = log_call(engine, clock, sid=call_sid(1))
    taken = log_call(
        engine, clock, sid=call_sid(2), category="accounts", complaint=False,
        agent_id=crew.complaints.agent_id, phone="+8613612345678",
    )  # fmt: skip
    assigned = open_ticket(app_client, crew, category="other", assignee_id=crew.complaints.agent_id)
    open_ticket(app_client, crew, category="other")
    cards = open_ticket(app_client, crew, category="cards.bills")
    response = app_client.get("/api/tickets", headers=crew.complaints.headers)
    assert sorted(t["number"] for t in response.json()) == sorted([complaint, taken, assigned])
    response = app_client.get("/api/tickets", headers=crew.cards.headers)
    assert [t["number"] for t in response.json()] == [cards]
