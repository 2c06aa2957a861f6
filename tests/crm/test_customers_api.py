"""Customer records over the REST API: masked references, search, changes, merge, 360."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, select

from crm.models import Callback, CallLog, Ticket
from hotline.audit import AuditLog
from hotline.clock import FrozenClock
from hotline.db import session_scope
from recordings.models import Recording
from tests.crm.cases import Crew, add_crew, add_customer, call_sid, log_call


@pytest.fixture
def crew(app_client: TestClient, engine: Engine, clock: FrozenClock) -> Crew:
    return add_crew(engine, clock)


NEW = {
    "name": "王芳",
    "phones": ["+8613800138000", "+861065550100"],
    "segment": "vip",
    "preferred_language": "en",
    "consent_sms": False,
    "account_ref_masked": "622588******1234",
    "masked_refs": ["6225 88** **** 5678", "****9012"],
}


def test_a_customer_is_created_with_several_numbers_and_masked_refs(
    app_client: TestClient, crew: Crew
) -> None:
    response = app_client.post("/api/customers", json=NEW, headers=crew.cards.headers)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["phones"] == ["+8613800138000", "+861065550100"]
    assert body["masked_refs"] == ["622588******5678", "****9012"]
    assert body["segment"] == "vip" and body["consent_sms"] is False


@pytest.mark.parametrize(
    "ref",
    ["6225881234567890", "622588123456**34", "6225887******1234", "1234", "62258812345678901234"],
)
def test_an_unmasked_card_or_account_number_is_refused(
    app_client: TestClient, crew: Crew, ref: str
) -> None:
    response = app_client.post(
        "/api/customers", json={**NEW, "masked_refs": [ref]}, headers=crew.cards.headers
    )
    assert response.status_code == 422
    assert response.json()["error"] == "validation_error"


def test_a_number_not_in_e164_is_refused(app_client: TestClient, crew: Crew) -> None:
    response = app_client.post(
        "/api/customers", json={**NEW, "phones": ["13800138000"]}, headers=crew.cards.headers
    )
    assert response.status_code == 422


def test_a_number_of_another_customer_is_a_conflict(
    app_client: TestClient, engine: Engine, clock: FrozenClock, crew: Crew
) -> None:
    add_customer(engine, clock, phones=["+8613800138000"])
    response = app_client.post("/api/customers", json=NEW, headers=crew.cards.headers)
    assert response.status_code == 409


def test_search_by_name_and_phone_with_a_total(
    app_client: TestClient, engine: Engine, clock: FrozenClock, crew: Crew
) -> None:
    first = add_customer(engine, clock, name="李娜", phones=["+8613900139000"])
    add_customer(engine, clock, name="李明", phones=["+8613700137000"])
    headers = crew.supervisor.headers
    by_name = app_client.get("/api/customers?name=李&limit=1", headers=headers)
    assert by_name.headers["X-Total-Count"] == "2" and len(by_name.json()) == 1
    by_phone = app_client.get("/api/customers?phone=%2B8613900139000", headers=headers)
    assert [c["id"] for c in by_phone.json()] == [first]


def test_an_agent_finds_only_customers_with_a_case_they_see(
    app_client: TestClient, engine: Engine, clock: FrozenClock, crew: Crew
) -> None:
    with_complaint = add_customer(engine, clock, name="李娜", phones=["+8613900139000"])
    add_customer(engine, clock, name="李明", phones=["+8613700137000"])
    log_call(engine, clock, sid=call_sid(1), customer_id=with_complaint)
    found = app_client.get("/api/customers?name=李", headers=crew.complaints.headers)
    assert [c["id"] for c in found.json()] == [with_complaint]


def test_a_change_is_kept_and_audited(
    app_client: TestClient, engine: Engine, clock: FrozenClock, crew: Crew
) -> None:
    customer_id = add_customer(engine, clock)
    response = app_client.patch(
        f"/api/customers/{customer_id}",
        json={"segment": "vip", "phones": ["+8613900139000", "+8613500135000"]},
        headers=crew.supervisor.headers,
    )
    assert response.status_code == 200
    assert response.json()["phones"] == ["+8613900139000", "+8613500135000"]
    with Session(engine) as session:
        row = session.exec(select(AuditLog).where(AuditLog.action == "customer.update")).one()
    assert row.actor == f"agent:{crew.supervisor.agent_id}"
    assert row.object_id == str(customer_id) and row.detail == {"fields": ["segment", "phones"]}
    assert row.address == "testclient"


def test_merging_moves_phones_tickets_calls_and_callbacks(
    app_client: TestClient, engine: Engine, clock: FrozenClock, crew: Crew
) -> None:
    target = add_customer(engine, clock, name="李娜", phones=["+8613900139000"])
    source = add_customer(engine, clock, name="李 娜", phones=["+8613700137000"])
    log_call(engine, clock, sid=call_sid(1), customer_id=source, phone="+8613700137000")
    with session_scope(engine) as session:
        call = session.exec(select(CallLog)).one()
        session.add(
            Callback(
                ticket_id=call.ticket_id or 0,
                customer_id=source,
                phone="+8613700137000",
                due_at=clock.now(),
                reason="voicemail",
                created_at=clock.now(),
            )
        )
    response = app_client.post(
        f"/api/customers/{target}/merge", json={"from": source}, headers=crew.supervisor.headers
    )
    assert response.status_code == 200, response.text
    assert response.json()["phones"] == ["+8613900139000", "+8613700137000"]
    with Session(engine) as session:
        assert {t.customer_id for t in session.exec(select(Ticket))} == {target}
        assert {c.customer_id for c in session.exec(select(CallLog))} == {target}
        assert {c.customer_id for c in session.exec(select(Callback))} == {target}
    merged = app_client.get(f"/api/customers/{source}", headers=crew.supervisor.headers)
    assert merged.json()["merged_into_id"] == target
    listed = app_client.get("/api/customers?name=娜", headers=crew.supervisor.headers)
    assert [c["id"] for c in listed.json()] == [target]
    again = app_client.post(
        f"/api/customers/{target}/merge", json={"from": source}, headers=crew.supervisor.headers
    )
    assert again.status_code == 409


def test_the_overview_has_everything_in_one_answer_and_is_audited(
    app_client: TestClient, engine: Engine, clock: FrozenClock, crew: Crew
) -> None:
    customer_id = add_customer(engine, clock)
    sid = call_sid(7)
    number = log_call(engine, clock, sid=sid, customer_id=customer_id)
    with session_scope(engine) as session:
        ticket = session.exec(select(Ticket)).one()
        recording = Recording(
            recording_sid="RE" + "1" * 32,
            call_sid=sid,
            status="completed",
            created_at=clock.now(),
            updated_at=clock.now(),
        )
        session.add(recording)
        session.add(
            Callback(
                ticket_id=ticket.id or 0,
                customer_id=customer_id,
                phone="+8613900139000",
                due_at=clock.now(),
                reason="voicemail",
                created_at=clock.now(),
            )
        )
        session.flush()
        recording_id = recording.id
    response = app_client.get(
        f"/api/customers/{customer_id}/overview", headers=crew.complaints.headers
    )
    assert response.status_code == 200
    body = response.json()
    assert body["customer"]["phones"] == ["+8613900139000"]
    assert [t["number"] for t in body["tickets"]] == [number]
    assert body["calls"][0]["call_sid"] == sid
    assert body["calls"][0]["ticket_number"] == number
    assert body["calls"][0]["recording_ids"] == [recording_id]
    assert [c["reason"] for c in body["callbacks"]] == ["voicemail"]
    assert body["surveys"] == []
    with Session(engine) as session:
        row = session.exec(select(AuditLog).where(AuditLog.action == "customer.overview")).one()
    assert row.actor == f"agent:{crew.complaints.agent_id}"
    assert row.object_type == "customer" and row.object_id == str(customer_id)


def test_admins_read_the_audit_log_newest_first(
    app_client: TestClient, engine: Engine, clock: FrozenClock, crew: Crew
) -> None:
    number = log_call(engine, clock, sid=call_sid(1))
    headers = crew.supervisor.headers
    app_client.post(f"/api/tickets/{number}/notes", json={"text": "a"}, headers=headers)
    clock.advance(5)
    app_client.patch(f"/api/tickets/{number}", json={"priority": 1}, headers=headers)
    response = app_client.get(
        f"/api/audit?object_type=ticket&object_id={number}", headers=crew.admin.headers
    )
    assert response.status_code == 200
    assert response.headers["X-Total-Count"] == "2"
    assert [row["action"] for row in response.json()] == ["ticket.update", "ticket.note"]
    assert response.json()[0]["detail"] == {"changes": [{"field": "priority", "old": 2, "new": 1}]}
