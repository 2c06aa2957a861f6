"""Hand-offs: a case handed to the card centre and back, who may ask and answer, overdue."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from hotline.clock import FrozenClock
from tests.crm.case_work import Bank, add_bank, kinds, local, log_call, run_watch
from tests.crm.cases import call_sid


@pytest.fixture
def bank(app_client: TestClient, engine: Engine, clock: FrozenClock) -> Bank:
    return add_bank(engine, clock)


def hand_to_card_centre(client: TestClient, bank: Bank, number: str, hours: float = 4) -> int:
    response = client.post(
        f"/api/tickets/{number}/handoff",
        json={
            "department": "card_centre",
            "question": "请核实这笔年费是否应收",
            "due_in_hours": hours,
        },
        headers=bank.complaints.headers,
    )
    assert response.status_code == 201, response.text
    handoff_id: int = response.json()["id"]
    return handoff_id


def test_a_complaint_is_noted_handed_to_the_card_centre_answered_and_resolved(
    app_client: TestClient, clock: FrozenClock, bank: Bank
) -> None:
    client = app_client
    number = log_call(
        client,
        clock,
        sid=call_sid(1),
        customer_id=bank.customer_id,
        agent_id=bank.complaints.agent_id,
    )
    me = bank.complaints.headers
    clock.advance(60)
    note = client.post(
        f"/api/tickets/{number}/notes", json={"text": "客户称年费被误收"}, headers=me
    )
    assert note.status_code == 201

    clock.advance(60)
    handoff_id = hand_to_card_centre(client, bank, number)
    ticket = bank.ticket(client, number)
    assert ticket["status"] == "pending_department"
    handoff_event = ticket["timeline"][-1]  # type: ignore[index]
    assert handoff_event["kind"] == "handoff"
    assert handoff_event["data"]["department"] == "card_centre"
    # Four business hours after 10:02 local.
    assert handoff_event["data"]["due_at"] == "2026-11-24T06:02:00+00:00"

    # The card centre sees the question in its queue and answers.
    queue = client.get("/api/handoffs?department=card_centre", headers=bank.card_centre.headers)
    assert queue.status_code == 200
    assert [(item["id"], item["ticket"]) for item in queue.json()] == [(handoff_id, number)]
    clock.advance(3600)
    answered = client.post(
        f"/api/tickets/{number}/handoffs/{handoff_id}/answer",
        json={"answer": "年费系系统误收，已冲正"},
        headers=bank.card_centre.headers,
    )
    assert answered.status_code == 200, answered.text
    assert answered.json()["answered_by"] == f"agent:{bank.card_centre.agent_id}"
    ticket = bank.ticket(client, number)
    assert ticket["status"] == "open"
    assert ticket["assignee_id"] == bank.complaints.agent_id

    resolved = client.post(
        f"/api/tickets/{number}/transition",
        json={"to": "resolved", "resolution_code": "refunded", "summary": "年费已冲正"},
        headers=me,
    )
    assert resolved.status_code == 200
    assert kinds(resolved.json()) == [
        "created",
        "call",
        "note",
        "handoff",
        "handoff",
        "status_change",
        "callback_scheduled",  # the follow-up call a resolved complaint gets
    ]
    answer_event = resolved.json()["timeline"][4]
    assert answer_event["data"]["answer"] == "年费系系统误收，已冲正"
    assert answer_event["data"]["new"] == "open"


def test_a_handoff_due_in_hours_counts_business_hours(
    app_client: TestClient, clock: FrozenClock, bank: Bank
) -> None:
    # Tuesday 19:00 local; the bank closes at 20:00 and opens at 08:00.
    clock.set(local(2026, 11, 24, 19))
    number = log_call(app_client, clock, sid=call_sid(1), customer_id=bank.customer_id)
    hand_to_card_centre(app_client, bank, number, hours=2)
    queue = app_client.get("/api/handoffs", headers=bank.supervisor.headers).json()
    assert queue[0]["due_at"] == "2026-11-25T01:00:00Z"


def test_a_handoff_to_an_unknown_department_is_422(
    app_client: TestClient, clock: FrozenClock, bank: Bank
) -> None:
    number = log_call(app_client, clock, sid=call_sid(1), customer_id=bank.customer_id)
    response = app_client.post(
        f"/api/tickets/{number}/handoff",
        json={"department": "nowhere", "question": "?", "due_in_hours": 1},
        headers=bank.complaints.headers,
    )
    assert response.status_code == 422


def test_a_handoff_needs_exactly_one_due_time(
    app_client: TestClient, clock: FrozenClock, bank: Bank
) -> None:
    number = log_call(app_client, clock, sid=call_sid(1), customer_id=bank.customer_id)
    response = app_client.post(
        f"/api/tickets/{number}/handoff",
        json={"department": "card_centre", "question": "?"},
        headers=bank.complaints.headers,
    )
    assert response.status_code == 422


def test_a_resolved_ticket_cannot_be_handed_off(
    app_client: TestClient, clock: FrozenClock, bank: Bank
) -> None:
    number = log_call(app_client, clock, sid=call_sid(1), customer_id=bank.customer_id)
    app_client.post(
        f"/api/tickets/{number}/transition",
        json={"to": "resolved", "resolution_code": "informed", "summary": "ok"},
        headers=bank.supervisor.headers,
    )
    response = app_client.post(
        f"/api/tickets/{number}/handoff",
        json={"department": "card_centre", "question": "?", "due_in_hours": 1},
        headers=bank.complaints.headers,
    )
    assert response.status_code == 409
    assert response.json()["allowed"] == ["closed", "open"]


def test_handing_off_needs_a_token_and_sight_of_the_ticket(
    app_client: TestClient, clock: FrozenClock, bank: Bank
) -> None:
    number = log_call(app_client, clock, sid=call_sid(1), customer_id=bank.customer_id)
    body = {"department": "card_centre", "question": "?", "due_in_hours": 1}
    path = f"/api/tickets/{number}/handoff"
    assert app_client.post(path, json=body).status_code == 401
    assert app_client.post(path, json=body, headers=bank.cards.headers).status_code == 403
    assert app_client.post(path, json=body, headers=bank.supervisor.headers).status_code == 201


def test_only_the_department_asked_or_a_supervisor_may_answer(
    app_client: TestClient, clock: FrozenClock, bank: Bank
) -> None:
    number = log_call(app_client, clock, sid=call_sid(1), customer_id=bank.customer_id)
    handoff_id = hand_to_card_centre(app_client, bank, number)
    path = f"/api/tickets/{number}/handoffs/{handoff_id}/answer"
    body = {"answer": "已处理"}
    assert app_client.post(path, json=body).status_code == 401
    assert app_client.post(path, json=body, headers=bank.loans.headers).status_code == 403
    assert app_client.post(path, json=body, headers=bank.cards.headers).status_code == 403
    assert app_client.post(path, json=body, headers=bank.supervisor.headers).status_code == 200
    again = app_client.post(path, json=body, headers=bank.card_centre.headers)
    assert again.status_code == 409


def test_the_handoff_queue_is_for_department_members_and_supervisors(
    app_client: TestClient, clock: FrozenClock, bank: Bank
) -> None:
    number = log_call(app_client, clock, sid=call_sid(1), customer_id=bank.customer_id)
    hand_to_card_centre(app_client, bank, number)
    assert app_client.get("/api/handoffs").status_code == 401
    assert app_client.get("/api/handoffs", headers=bank.complaints.headers).status_code == 403
    other = app_client.get("/api/handoffs?department=card_centre", headers=bank.loans.headers)
    assert other.status_code == 403
    assert app_client.get("/api/handoffs", headers=bank.loans.headers).json() == []
    assert len(app_client.get("/api/handoffs", headers=bank.card_centre.headers).json()) == 1
    assert len(app_client.get("/api/handoffs", headers=bank.supervisor.headers).json()) == 1


def test_an_overdue_handoff_is_flagged_once(
    app_client: TestClient, clock: FrozenClock, bank: Bank
) -> None:
    number = log_call(app_client, clock, sid=call_sid(1), customer_id=bank.customer_id)
    hand_to_card_centre(app_client, bank, number, hours=1)
    clock.advance(30 * 60)
    assert run_watch()["overdue_handoffs"] == 0
    clock.advance(31 * 60)
    assert run_watch()["overdue_handoffs"] == 1
    assert run_watch()["overdue_handoffs"] == 0
    overdue = app_client.get("/api/handoffs?overdue=true", headers=bank.card_centre.headers)
    assert [item["ticket"] for item in overdue.json()] == [number]
    events = [
        event
        for event in bank.ticket(app_client, number)["timeline"]  # type: ignore[attr-defined]
        if event["kind"] == "handoff" and event["data"].get("overdue")
    ]
    assert len(events) == 1 and events[0]["data"]["department"] == "card_centre"
