"""Whole cases over the REST API: a call opens a complaint, an agent works it to the end."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from hotline.clock import FrozenClock
from tests.conftest import Twilio
from tests.crm.cases import Crew, add_crew, add_customer, call_sid, log_call
from tests.ivr.caller import Caller

CALLER = "+8613900139000"


@pytest.fixture
def crew(app_client: TestClient, engine: Engine, clock: FrozenClock) -> Crew:
    return add_crew(engine, clock)


def complaint_call(twilio: Twilio, clock: FrozenClock) -> Caller:
    caller = Caller(twilio, clock, CALLER)
    caller.dial()
    caller.press("5")
    caller.hang_up(after=20, duration=40)
    return caller


def only_ticket(client: TestClient, crew: Crew) -> dict[str, object]:
    response = client.get(f"/api/tickets?phone={CALLER}", headers=crew.complaints.headers)
    assert response.status_code == 200
    assert response.headers["X-Total-Count"] == "1"
    ticket: dict[str, object] = response.json()[0]
    return ticket


def test_a_complaint_call_is_noted_reprioritised_and_resolved(
    twilio: Twilio, clock: FrozenClock, crew: Crew
) -> None:
    client = twilio.client
    complaint_call(twilio, clock)
    ticket = only_ticket(client, crew)
    assert ticket["ticket_type"] == "complaint" and ticket["status"] == "new"
    number = ticket["number"]
    me = crew.complaints.headers

    clock.advance(60)
    note = client.post(
        f"/api/tickets/{number}/notes", json={"text": "客户称被重复扣费"}, headers=me
    )
    assert note.status_code == 201 and note.json()["internal"] is True
    assert (
        client.patch(f"/api/tickets/{number}", json={"priority": 1}, headers=me).json()["priority"]
        == 1
    )
    assert (
        client.post(f"/api/tickets/{number}/transition", json={"to": "open"}, headers=me)
    ).status_code == 200
    resolved = client.post(
        f"/api/tickets/{number}/transition",
        json={"to": "resolved", "resolution_code": "refunded", "summary": "重复扣费已退回"},
        headers=me,
    )
    assert resolved.status_code == 200
    body = resolved.json()
    assert body["status"] == "resolved" and body["resolution_code"] == "refunded"
    assert body["resolution_summary"] == "重复扣费已退回"
    kinds = [event["kind"] for event in body["timeline"]]
    assert kinds == [
        "created", "call", "note", "field_change", "status_change", "status_change",
        "callback_scheduled",  # the follow-up call a resolved complaint gets
    ]  # fmt: skip
    change = body["timeline"][3]
    assert change["data"] == {"field": "priority", "old": 2, "new": 1}
    assert change["actor"] == f"agent:{crew.complaints.agent_id}"
    assert body["timeline"][-2]["data"]["old"] == "open"


def test_resolving_needs_a_configured_code_and_a_summary(
    app_client: TestClient, engine: Engine, clock: FrozenClock, crew: Crew
) -> None:
    number = log_call(engine, clock, sid=call_sid(1))
    path = f"/api/tickets/{number}/transition"
    headers = crew.supervisor.headers
    no_summary = app_client.post(
        path, json={"to": "resolved", "resolution_code": "fixed"}, headers=headers
    )
    assert no_summary.status_code == 422
    unknown = app_client.post(
        path, json={"to": "resolved", "resolution_code": "magic", "summary": "x"}, headers=headers
    )
    assert unknown.status_code == 422
    assert "refunded" in unknown.json()["resolution_codes"]


def test_a_wrong_transition_is_refused_with_the_allowed_ones(
    app_client: TestClient, engine: Engine, clock: FrozenClock, crew: Crew
) -> None:
    number = log_call(engine, clock, sid=call_sid(1))
    response = app_client.post(
        f"/api/tickets/{number}/transition", json={"to": "closed"}, headers=crew.supervisor.headers
    )
    assert response.status_code == 409
    body = response.json()
    assert body["error"] == "conflict"
    assert body["detail"] == "a ticket that is new cannot become closed"
    assert body["allowed"] == [
        "open",
        "pending_customer",
        "pending_department",
        "escalated",
        "resolved",
    ]


def test_reopening_clears_the_resolution(
    app_client: TestClient, engine: Engine, clock: FrozenClock, crew: Crew
) -> None:
    number = log_call(engine, clock, sid=call_sid(1))
    path = f"/api/tickets/{number}/transition"
    headers = crew.supervisor.headers
    app_client.post(
        path,
        json={"to": "resolved", "resolution_code": "informed", "summary": "ok"},
        headers=headers,
    )
    app_client.post(path, json={"to": "closed"}, headers=headers)
    reopened = app_client.post(path, json={"to": "open", "reason": "客户不满意"}, headers=headers)
    assert reopened.status_code == 200
    body = reopened.json()
    assert body["status"] == "open" and body["resolution_code"] is None
    reopen = [event for event in body["timeline"] if event["kind"] == "status_change"][-1]
    assert reopen["data"]["reopen"] is True and reopen["data"]["reason"] == "客户不满意"
    # The follow-up call the resolution owed is called off, on the timeline too.
    assert body["timeline"][-1]["kind"] == "callback_result"


def test_a_repeat_call_within_the_window_attaches_and_counts(
    twilio: Twilio, clock: FrozenClock, crew: Crew
) -> None:
    complaint_call(twilio, clock)
    clock.advance(2 * 86400)
    complaint_call(twilio, clock)
    ticket = only_ticket(twilio.client, crew)
    assert ticket["repeat_count"] == 1
    detail = twilio.client.get(f"/api/tickets/{ticket['number']}", headers=crew.complaints.headers)
    assert [event["kind"] for event in detail.json()["timeline"]] == ["created", "call", "call"]


def test_a_call_after_the_window_opens_a_new_ticket(
    twilio: Twilio, clock: FrozenClock, crew: Crew
) -> None:
    complaint_call(twilio, clock)
    clock.advance(8 * 86400)  # HOTLINE_REPEAT_CONTACT_WINDOW_DAYS is 7
    complaint_call(twilio, clock)
    response = twilio.client.get(f"/api/tickets?phone={CALLER}", headers=crew.complaints.headers)
    assert response.headers["X-Total-Count"] == "2"
    assert all(ticket["repeat_count"] == 0 for ticket in response.json())


def test_merging_closes_the_source_and_points_to_the_target(
    app_client: TestClient, engine: Engine, clock: FrozenClock, crew: Crew
) -> None:
    source = log_call(engine, clock, sid=call_sid(1), category="complaint.fees")
    target = log_call(engine, clock, sid=call_sid(2), category="complaint.service")
    headers = crew.complaints.headers
    merged = app_client.post(f"/api/tickets/{source}/merge", json={"into": target}, headers=headers)
    assert merged.status_code == 200
    assert merged.json()["number"] == target
    assert merged.json()["timeline"][-1]["data"] == {"from": source}
    closed = app_client.get(f"/api/tickets/{source}", headers=headers).json()
    assert closed["status"] == "closed" and closed["merged_into"] == target
    again = app_client.post(f"/api/tickets/{source}/merge", json={"into": target}, headers=headers)
    assert again.status_code == 409


def test_links_show_on_both_tickets(
    app_client: TestClient, engine: Engine, clock: FrozenClock, crew: Crew
) -> None:
    one = log_call(engine, clock, sid=call_sid(1), category="complaint.fees")
    two = log_call(engine, clock, sid=call_sid(2), category="complaint.service")
    headers = crew.complaints.headers
    linked = app_client.post(f"/api/tickets/{one}/links", json={"number": two}, headers=headers)
    assert linked.status_code == 201 and linked.json()["links"] == [two]
    assert app_client.get(f"/api/tickets/{two}", headers=headers).json()["links"] == [one]
    twice = app_client.post(f"/api/tickets/{two}/links", json={"number": one}, headers=headers)
    assert twice.status_code == 409


def test_an_agent_opens_a_ticket_by_hand(
    app_client: TestClient, engine: Engine, clock: FrozenClock, crew: Crew
) -> None:
    customer_id = add_customer(engine, clock)
    response = app_client.post(
        "/api/tickets",
        json={
            "channel": "email",
            "customer_id": customer_id,
            "category": "cards.bills",
            "ticket_type": "request",
            "subject": "账单邮寄地址变更",
        },
        headers=crew.cards.headers,
    )
    assert response.status_code == 201
    body = response.json()
    assert body["channel"] == "email" and body["assignee_id"] == crew.cards.agent_id
    assert body["number"].startswith("T20261124-")
    assert body["timeline"][0]["kind"] == "created"


def test_a_ticket_needs_a_known_category(app_client: TestClient, crew: Crew) -> None:
    response = app_client.post(
        "/api/tickets",
        json={"category": "nowhere", "subject": "?"},
        headers=crew.cards.headers,
    )
    assert response.status_code == 422


def test_field_changes_each_go_on_the_timeline(
    app_client: TestClient, engine: Engine, clock: FrozenClock, crew: Crew
) -> None:
    number = log_call(engine, clock, sid=call_sid(1))
    response = app_client.patch(
        f"/api/tickets/{number}",
        json={
            "severity": 5,
            "type": "request",
            "assignee": crew.cards.agent_id,
            "subject": "重复扣费",
        },
        headers=crew.complaints.headers,
    )
    assert response.status_code == 200
    changes = [e["data"] for e in response.json()["timeline"] if e["kind"] == "field_change"]
    assert {change["field"] for change in changes} == {
        "severity",
        "ticket_type",
        "assignee_id",
        "subject",
    }
    assert {"field": "ticket_type", "old": "complaint", "new": "request"} in changes


def test_the_call_agent_wraps_up_on_the_call_and_the_timeline(
    app_client: TestClient, engine: Engine, clock: FrozenClock, crew: Crew
) -> None:
    sid = call_sid(1)
    number = log_call(engine, clock, sid=sid, agent_id=crew.cards.agent_id)
    headers = crew.cards.headers
    path = f"/api/calls/{sid}/wrap-up"
    assert app_client.post(path, json={"code": "magic"}, headers=headers).status_code == 422
    done = app_client.post(
        path, json={"code": "callback_needed", "note": "明天回电"}, headers=headers
    )
    assert done.status_code == 200 and done.json()["wrapup_code"] == "callback_needed"
    timeline = app_client.get(f"/api/tickets/{number}", headers=headers).json()["timeline"]
    assert timeline[-1]["kind"] == "wrap_up"
    assert timeline[-1]["data"] == {"call_sid": sid, "code": "callback_needed", "note": "明天回电"}
    assert app_client.post(path, json={"code": "answered"}, headers=headers).status_code == 409


def test_no_route_edits_or_deletes_the_timeline(app_client: TestClient) -> None:
    paths = app_client.get("/openapi.json").json()["paths"]
    for path, operations in paths.items():
        # Releasing a legal hold is a DELETE of the hold (its row stays, with released_at).
        if path.startswith("/api/tickets") and not path.endswith("/legal-hold"):
            assert "delete" not in operations and "put" not in operations, path
            if path != "/api/tickets/{number}":
                assert "patch" not in operations, path


def test_a_ticket_opened_by_an_answered_call_is_assigned_to_its_agent(
    app_client: TestClient, engine: Engine, clock: FrozenClock, crew: Crew
) -> None:
    number = log_call(engine, clock, sid=call_sid(1), agent_id=crew.cards.agent_id)
    ticket = app_client.get(f"/api/tickets/{number}", headers=crew.cards.headers).json()
    assert ticket["assignee_id"] == crew.cards.agent_id


def test_a_ticket_is_assigned_only_to_an_agent_who_exists(
    app_client: TestClient, engine: Engine, clock: FrozenClock, crew: Crew
) -> None:
    number = log_call(engine, clock, sid=call_sid(1))
    response = app_client.patch(
        f"/api/tickets/{number}", json={"assignee": 999_999}, headers=crew.supervisor.headers
    )
    assert response.status_code == 422
    assert response.json()["detail"] == "no agent 999999"
