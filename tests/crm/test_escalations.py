"""Escalations: by an agent, by a severe complaint, by the third contact, by a survey; the
managers' queue and who may see it."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import select

from crm.case_models import EscalationTrigger
from crm.escalations import escalate
from crm.models import Ticket
from hotline.clock import FrozenClock
from hotline.db import session_scope
from tests.crm.case_work import Bank, add_bank, escalations_of, log_call, services_of
from tests.crm.cases import call_sid


@pytest.fixture
def bank(app_client: TestClient, engine: Engine, clock: FrozenClock) -> Bank:
    return add_bank(engine, clock)


def escalate_by_hand(client: TestClient, bank: Bank, number: str) -> dict[str, object]:
    response = client.post(
        f"/api/tickets/{number}/escalate",
        json={"reason": "客户要求主管回复"},
        headers=bank.complaints.headers,
    )
    assert response.status_code == 201, response.text
    body: dict[str, object] = response.json()
    return body


def test_an_agent_escalates_with_a_reason_and_a_background_pack(
    app_client: TestClient, clock: FrozenClock, bank: Bank
) -> None:
    number = log_call(
        app_client,
        clock,
        sid=call_sid(1),
        customer_id=bank.customer_id,
        agent_id=bank.complaints.agent_id,
    )
    escalation = escalate_by_hand(app_client, bank, number)
    assert escalation["trigger"] == "manual" and escalation["reason"] == "客户要求主管回复"
    assert escalation["raised_by"] == f"agent:{bank.complaints.agent_id}"
    pack = escalation["pack"]
    assert isinstance(pack, dict)
    assert pack["customer"]["phones"] == ["+86139****9000"]
    assert pack["ticket"]["number"] == number
    assert [call["call_sid"] for call in pack["calls"]] == [call_sid(1)]
    ticket = bank.ticket(app_client, number)
    assert ticket["status"] == "escalated"
    last = ticket["timeline"][-1]  # type: ignore[index]
    assert last["kind"] == "escalation" and last["data"]["trigger"] == "manual"


def test_escalating_twice_by_hand_answers_the_open_escalation(
    app_client: TestClient, clock: FrozenClock, bank: Bank
) -> None:
    number = log_call(app_client, clock, sid=call_sid(1), customer_id=bank.customer_id)
    first = escalate_by_hand(app_client, bank, number)
    again = app_client.post(
        f"/api/tickets/{number}/escalate", json={"reason": "再次"}, headers=bank.complaints.headers
    )
    assert again.status_code == 200 and again.json()["id"] == first["id"]


def test_escalating_needs_a_token_sight_of_the_ticket_and_a_reason(
    app_client: TestClient, clock: FrozenClock, bank: Bank
) -> None:
    number = log_call(app_client, clock, sid=call_sid(1), customer_id=bank.customer_id)
    path = f"/api/tickets/{number}/escalate"
    assert app_client.post(path, json={"reason": "x"}).status_code == 401
    assert (
        app_client.post(path, json={"reason": "x"}, headers=bank.cards.headers).status_code == 403
    )
    assert app_client.post(path, json={}, headers=bank.complaints.headers).status_code == 422


def test_a_resolved_ticket_is_not_escalated_by_hand(
    app_client: TestClient, clock: FrozenClock, bank: Bank
) -> None:
    number = log_call(app_client, clock, sid=call_sid(1), customer_id=bank.customer_id)
    app_client.post(
        f"/api/tickets/{number}/transition",
        json={"to": "resolved", "resolution_code": "informed", "summary": "ok"},
        headers=bank.supervisor.headers,
    )
    response = app_client.post(
        f"/api/tickets/{number}/escalate", json={"reason": "x"}, headers=bank.complaints.headers
    )
    assert response.status_code == 409


def test_the_escalation_queue_is_for_managers(
    app_client: TestClient, clock: FrozenClock, bank: Bank
) -> None:
    number = log_call(app_client, clock, sid=call_sid(1), customer_id=bank.customer_id)
    escalation = escalate_by_hand(app_client, bank, number)
    one = f"/api/escalations/{escalation['id']}"
    for path in ("/api/escalations?open=true", one):
        assert app_client.get(path).status_code == 401
        assert app_client.get(path, headers=bank.complaints.headers).status_code == 403
        assert app_client.get(path, headers=bank.supervisor.headers).status_code == 200
    listed = app_client.get("/api/escalations?open=true", headers=bank.supervisor.headers).json()
    assert [(item["id"], item["ticket"]) for item in listed] == [(escalation["id"], number)]
    shown = app_client.get(one, headers=bank.supervisor.headers).json()
    assert shown["pack"]["ticket"]["number"] == number


def test_a_manager_acknowledges_an_escalation_once(
    app_client: TestClient, clock: FrozenClock, bank: Bank
) -> None:
    number = log_call(app_client, clock, sid=call_sid(1), customer_id=bank.customer_id)
    escalation = escalate_by_hand(app_client, bank, number)
    path = f"/api/escalations/{escalation['id']}/acknowledge"
    assert app_client.post(path).status_code == 401
    assert app_client.post(path, headers=bank.complaints.headers).status_code == 403
    done = app_client.post(path, headers=bank.supervisor.headers)
    assert done.status_code == 200
    assert done.json()["acknowledged_by"] == f"agent:{bank.supervisor.agent_id}"
    assert app_client.post(path, headers=bank.supervisor.headers).status_code == 409
    last = bank.ticket(app_client, number)["timeline"][-1]  # type: ignore[index]
    assert last["data"] == {"escalation_id": escalation["id"], "acknowledged": True}


def test_resolving_the_ticket_closes_its_escalations(
    app_client: TestClient, clock: FrozenClock, bank: Bank
) -> None:
    number = log_call(app_client, clock, sid=call_sid(1), customer_id=bank.customer_id)
    escalate_by_hand(app_client, bank, number)
    app_client.post(
        f"/api/tickets/{number}/transition",
        json={"to": "resolved", "resolution_code": "informed", "summary": "主管已回复"},
        headers=bank.supervisor.headers,
    )
    headers = bank.supervisor.headers
    assert app_client.get("/api/escalations?open=true", headers=headers).json() == []
    assert len(app_client.get("/api/escalations?open=false", headers=headers).json()) == 1


def test_a_severe_complaint_escalates_by_itself_once(
    app_client: TestClient, clock: FrozenClock, bank: Bank
) -> None:
    number = log_call(app_client, clock, sid=call_sid(1), customer_id=bank.customer_id)
    path = f"/api/tickets/{number}"
    headers = bank.complaints.headers
    assert app_client.patch(path, json={"severity": 3}, headers=headers).status_code == 200
    assert escalations_of(app_client_engine(app_client), number) == []
    assert app_client.patch(path, json={"severity": 4}, headers=headers).json()["status"] == (
        "escalated"
    )
    app_client.patch(path, json={"severity": 5}, headers=headers)
    raised = escalations_of(app_client_engine(app_client), number)
    assert [(item.trigger, item.reason) for item in raised] == [
        (EscalationTrigger.severity, "complaint of severity 4")
    ]


def test_a_new_severe_complaint_escalates_when_opened(
    app_client: TestClient, clock: FrozenClock, bank: Bank
) -> None:
    response = app_client.post(
        "/api/tickets",
        json={
            "category": "complaint",
            "ticket_type": "complaint",
            "severity": 5,
            "subject": "网点服务态度",
            "customer_id": bank.customer_id,
        },
        headers=bank.complaints.headers,
    )
    assert response.status_code == 201
    assert response.json()["status"] == "escalated"


def test_an_inquiry_is_not_escalated_for_its_severity(
    app_client: TestClient, clock: FrozenClock, bank: Bank
) -> None:
    number = log_call(
        app_client,
        clock,
        sid=call_sid(1),
        customer_id=bank.customer_id,
        category="cards.bills",
        complaint=False,
    )
    response = app_client.patch(
        f"/api/tickets/{number}", json={"severity": 5}, headers=bank.supervisor.headers
    )
    assert response.json()["status"] == "new"


def test_the_third_contact_on_a_ticket_escalates_once(
    app_client: TestClient, clock: FrozenClock, bank: Bank
) -> None:
    number = log_call(app_client, clock, sid=call_sid(1), customer_id=bank.customer_id)
    clock.advance(3600)
    assert log_call(app_client, clock, sid=call_sid(2), customer_id=bank.customer_id) == number
    assert escalations_of(app_client_engine(app_client), number) == []
    for n in (3, 4):
        clock.advance(3600)
        log_call(app_client, clock, sid=call_sid(n), customer_id=bank.customer_id)
    raised = escalations_of(app_client_engine(app_client), number)
    assert [(item.trigger, item.raised_by) for item in raised] == [
        (EscalationTrigger.repeat_contact, "system")
    ]
    assert len(raised[0].pack["calls"]) == 3
    assert bank.ticket(app_client, number)["status"] == "escalated"


def test_a_low_survey_score_reopens_a_resolved_ticket_and_escalates_it(
    app_client: TestClient, clock: FrozenClock, bank: Bank
) -> None:
    number = log_call(app_client, clock, sid=call_sid(1), customer_id=bank.customer_id)
    app_client.post(
        f"/api/tickets/{number}/transition",
        json={"to": "resolved", "resolution_code": "informed", "summary": "ok"},
        headers=bank.supervisor.headers,
    )
    engine = app_client_engine(app_client)
    with session_scope(engine) as session:
        ticket = session.exec(select(Ticket).where(Ticket.number == number)).one()
        assert ticket.id is not None
        for _ in range(2):
            _, new = escalate(
                session=session,
                ticket_id=ticket.id,
                reason="满意度 1/5",
                trigger=EscalationTrigger.survey,
                actor="system",
                now=clock.now(),
            )
    assert [item.trigger for item in escalations_of(engine, number)] == [EscalationTrigger.survey]
    ticket_body = bank.ticket(app_client, number)
    assert ticket_body["status"] == "escalated"
    assert ticket_body["resolution_code"] is None


def test_an_earlier_escalation_of_the_customer_is_in_the_pack(
    app_client: TestClient, clock: FrozenClock, bank: Bank
) -> None:
    first = log_call(app_client, clock, sid=call_sid(1), customer_id=bank.customer_id)
    earlier = escalate_by_hand(app_client, bank, first)
    second = log_call(
        app_client,
        clock,
        sid=call_sid(2),
        customer_id=bank.customer_id,
        category="cards.bills",
        complaint=False,
    )
    response = app_client.post(
        f"/api/tickets/{second}/escalate", json={"reason": "x"}, headers=bank.supervisor.headers
    )
    previous = response.json()["pack"]["previous_escalations"]
    assert [(item["id"], item["ticket"]) for item in previous] == [(earlier["id"], first)]


def app_client_engine(client: TestClient) -> Engine:
    return services_of(client).engine


def test_merging_a_ticket_away_closes_its_escalations(
    app_client: TestClient, clock: FrozenClock, bank: Bank
) -> None:
    source = log_call(app_client, clock, sid=call_sid(1), customer_id=bank.customer_id)
    escalate_by_hand(app_client, bank, source)
    target = log_call(
        app_client,
        clock,
        sid=call_sid(2),
        customer_id=bank.customer_id,
        category="cards.bills",
        complaint=False,
    )
    merged = app_client.post(
        f"/api/tickets/{source}/merge", json={"into": target}, headers=bank.supervisor.headers
    )
    assert merged.status_code == 200
    headers = bank.supervisor.headers
    assert app_client.get("/api/escalations?open=true", headers=headers).json() == []
