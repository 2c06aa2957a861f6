"""SLA clocks on a bank open mon-fri 09:00-17:00 with Monday 30 November a holiday: due
times, warnings and breaches by the scheduled watch, the pause while pending the customer,
complaint extensions."""

from __future__ import annotations

import inspect
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from rq import SimpleWorker
from sqlalchemy import Engine

from crm.jobs import SLA_WATCH, SLA_WATCH_CHAIN
from hotline import cli
from hotline.clock import FrozenClock
from hotline.jobs import QUEUE_NAMES
from hotline.settings import Settings
from tests.crm.case_work import (
    Bank,
    add_bank,
    add_recording,
    escalations_of,
    kinds,
    local,
    log_call,
    run_watch,
    services_of,
)
from tests.crm.cases import call_sid


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={"business_hours": "mon-fri 09:00-17:00", "holidays": "2026-11-30"}
    )


@pytest.fixture
def bank(app_client: TestClient, engine: Engine, clock: FrozenClock) -> Bank:
    return add_bank(engine, clock)


def _z(moment: datetime) -> str:
    """How the API writes a moment: UTC, with a Z."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def open_ticket(
    client: TestClient, bank: Bank, *, priority: int = 1, ticket_type: str = "inquiry"
) -> dict[str, object]:
    response = client.post(
        "/api/tickets",
        json={
            "category": "cards.bills" if ticket_type == "inquiry" else "complaint",
            "ticket_type": ticket_type,
            "priority": priority,
            "subject": "账单疑问",
            "customer_id": bank.customer_id,
        },
        headers=bank.cards.headers if ticket_type == "inquiry" else bank.complaints.headers,
    )
    assert response.status_code == 201, response.text
    body: dict[str, object] = response.json()
    return body


def test_a_p1_ticket_is_due_in_business_hours(
    app_client: TestClient, clock: FrozenClock, bank: Bank
) -> None:
    clock.set(local(2026, 11, 27, 16))  # a Friday, an hour before closing
    ticket = open_ticket(app_client, bank)
    assert ticket["first_response_due_at"] == _z(local(2026, 11, 27, 17))
    # One hour on Friday, nothing at the weekend or on Monday's holiday, seven on Tuesday.
    assert ticket["resolution_due_at"] == _z(local(2026, 12, 1, 16))


def test_a_complaint_is_due_in_15_calendar_days(
    app_client: TestClient, clock: FrozenClock, bank: Bank
) -> None:
    clock.set(local(2026, 11, 27, 16))
    ticket = open_ticket(app_client, bank, priority=2, ticket_type="complaint")
    assert ticket["first_response_due_at"] == _z(local(2026, 12, 1, 10))
    assert ticket["resolution_due_at"] == _z(local(2026, 12, 12, 16))


def test_a_priority_change_moves_the_due_times(
    app_client: TestClient, clock: FrozenClock, bank: Bank
) -> None:
    clock.set(local(2026, 11, 24, 10))
    number = open_ticket(app_client, bank, priority=4)["number"]
    changed = app_client.patch(
        f"/api/tickets/{number}", json={"priority": 1}, headers=bank.cards.headers
    ).json()
    assert changed["first_response_due_at"] == _z(local(2026, 11, 24, 11))
    assert changed["resolution_due_at"] == _z(local(2026, 11, 25, 10))


def test_a_breach_over_the_weekend_and_a_holiday_is_recorded_and_escalated_with_a_pack(
    app_client: TestClient, engine: Engine, clock: FrozenClock, bank: Bank
) -> None:
    clock.set(local(2026, 11, 27, 16))
    number = str(open_ticket(app_client, bank)["number"])
    # The customer calls again and hangs up in the queue: a repeat contact, no response yet.
    clock.advance(10 * 60)
    assert log_call(
        app_client, clock, sid=call_sid(1), customer_id=bank.customer_id, category="cards.bills",
        complaint=False,
    ) == number  # fmt: skip
    recording_id = add_recording(engine, clock, call_sid=call_sid(1))

    clock.set(local(2026, 11, 27, 16, 30))
    assert run_watch() == {"warned": 1, "breached": 0, "escalated": 0, "overdue_handoffs": 0}
    assert run_watch()["warned"] == 0

    clock.set(local(2026, 11, 30, 12))  # the holiday: the first response is overdue
    assert run_watch() == {"warned": 0, "breached": 1, "escalated": 1, "overdue_handoffs": 0}
    ticket = bank.ticket(app_client, number)
    assert ticket["breached"] is True and ticket["status"] == "escalated"
    assert kinds(ticket)[-3:] == ["sla_warning", "sla_breach", "escalation"]
    assert ticket["timeline"][-2]["data"] == {  # type: ignore[index]
        "clock": "first_response",
        "due_at": "2026-11-27T09:00:00+00:00",
    }

    (escalation,) = escalations_of(engine, number)
    shown = app_client.get(f"/api/escalations/{escalation.id}", headers=bank.supervisor.headers)
    assert shown.json()["trigger"] == "sla_breach" and shown.json()["raised_by"] == "system"
    pack = shown.json()["pack"]
    assert set(pack) == {"customer", "ticket", "timeline", "calls", "previous_escalations"}
    assert pack["customer"]["name"] == "李娜"
    assert pack["customer"]["phones"] == ["+86139****9000"]
    assert pack["ticket"]["number"] == number and pack["ticket"]["breached"] is True
    assert pack["ticket"]["priority"] == 1
    assert [event["kind"] for event in pack["timeline"]] == [
        "created",
        "call",
        "sla_warning",
        "sla_breach",
        "escalation",
    ]
    (call,) = pack["calls"]
    assert call["call_sid"] == call_sid(1) and call["from"] == "+86139****9000"
    assert call["disposition"] == "abandoned" and call["recording_ids"] == [recording_id]
    assert pack["previous_escalations"] == []

    # Resolution: not yet on the holiday; on Tuesday after 16:00 it breaches too, and the
    # open escalation stands for both.
    clock.set(local(2026, 12, 1, 15, 30))
    assert run_watch()["warned"] == 1
    clock.set(local(2026, 12, 1, 16, 1))
    assert run_watch() == {"warned": 0, "breached": 1, "escalated": 0, "overdue_handoffs": 0}
    assert run_watch()["breached"] == 0
    assert len(escalations_of(engine, number)) == 1


def test_a_customer_facing_note_stops_the_first_response_clock(
    app_client: TestClient, clock: FrozenClock, bank: Bank
) -> None:
    clock.set(local(2026, 11, 24, 10))
    number = open_ticket(app_client, bank)["number"]
    app_client.post(
        f"/api/tickets/{number}/notes", json={"text": "内部备注"}, headers=bank.cards.headers
    )
    app_client.post(
        f"/api/tickets/{number}/notes",
        json={"text": "您好，我们正在核实", "internal": False},
        headers=bank.cards.headers,
    )
    clock.set(local(2026, 11, 24, 12))
    assert run_watch()["breached"] == 0


def test_an_answered_call_is_the_first_response(
    app_client: TestClient, clock: FrozenClock, bank: Bank
) -> None:
    clock.set(local(2026, 11, 24, 10))
    number = log_call(
        app_client, clock, sid=call_sid(1), customer_id=bank.customer_id,
        agent_id=bank.complaints.agent_id,
    )  # fmt: skip
    clock.set(local(2026, 11, 25, 16))
    assert run_watch()["breached"] == 0
    assert bank.ticket(app_client, number)["breached"] is False


def test_pending_the_customer_pauses_the_clocks_and_moves_the_due_times(
    app_client: TestClient, clock: FrozenClock, bank: Bank
) -> None:
    clock.set(local(2026, 11, 24, 10))
    number = open_ticket(app_client, bank)["number"]
    path = f"/api/tickets/{number}/transition"
    headers = bank.cards.headers
    app_client.post(path, json={"to": "pending_customer"}, headers=headers)
    clock.set(local(2026, 11, 24, 14))  # four business hours later; the first clock ran out
    assert run_watch()["breached"] == 0
    resumed = app_client.post(path, json={"to": "open"}, headers=headers).json()
    assert resumed["first_response_due_at"] == _z(local(2026, 11, 24, 15))
    # Eight business hours: 10-17 Tuesday, 9-10 Wednesday; four more for the pause.
    assert resumed["resolution_due_at"] == _z(local(2026, 11, 25, 14))


def test_a_pause_over_the_night_moves_the_due_time_by_business_hours_only(
    app_client: TestClient, clock: FrozenClock, bank: Bank
) -> None:
    clock.set(local(2026, 11, 24, 10))
    number = open_ticket(app_client, bank)["number"]
    path = f"/api/tickets/{number}/transition"
    app_client.post(path, json={"to": "pending_customer"}, headers=bank.cards.headers)
    clock.set(local(2026, 11, 25, 10))  # 24 hours, of which 8 open
    resumed = app_client.post(path, json={"to": "open"}, headers=bank.cards.headers).json()
    assert resumed["resolution_due_at"] == _z(local(2026, 11, 26, 10))


def test_a_complaint_extension_is_requested_and_approved(
    app_client: TestClient, clock: FrozenClock, bank: Bank
) -> None:
    clock.set(local(2026, 11, 24, 10))
    number = open_ticket(app_client, bank, priority=2, ticket_type="complaint")["number"]
    path = f"/api/tickets/{number}/extensions"
    requested = app_client.post(
        path, json={"days": 15, "reason": "需调取网点监控"}, headers=bank.complaints.headers
    )
    assert requested.status_code == 201, requested.text
    extension_id = requested.json()["id"]
    assert requested.json()["approved_by"] is None
    waiting = app_client.post(
        path, json={"days": 30, "reason": "再次"}, headers=bank.complaints.headers
    )
    assert waiting.status_code == 409

    approved = app_client.post(f"{path}/{extension_id}/approve", headers=bank.supervisor.headers)
    assert approved.status_code == 200
    assert approved.json()["approved_by"] == f"agent:{bank.supervisor.agent_id}"
    assert approved.json()["resolution_due_at"] == _z(local(2026, 12, 24, 10))
    ticket = bank.ticket(app_client, number)
    events = [event for event in ticket["timeline"] if event["kind"] == "sla_extension"]  # type: ignore[attr-defined]
    assert [event["actor"] for event in events] == [
        f"agent:{bank.complaints.agent_id}",
        f"agent:{bank.supervisor.agent_id}",
    ]
    assert events[1]["data"]["approved"] is True and events[1]["data"]["days"] == 15

    # A further 30 days, then no more: 15 + 30 is as far as the regulator goes.
    second = app_client.post(
        path, json={"days": 30, "reason": "需第三方鉴定"}, headers=bank.complaints.headers
    ).json()
    app_client.post(f"{path}/{second['id']}/approve", headers=bank.supervisor.headers)
    assert bank.ticket(app_client, number)["resolution_due_at"] == _z(local(2027, 1, 23, 10))
    third = app_client.post(
        path, json={"days": 15, "reason": "再延"}, headers=bank.complaints.headers
    )
    assert third.status_code == 409


def test_an_extension_is_for_complaints_of_15_or_30_days(
    app_client: TestClient, clock: FrozenClock, bank: Bank
) -> None:
    inquiry = open_ticket(app_client, bank)["number"]
    refused = app_client.post(
        f"/api/tickets/{inquiry}/extensions",
        json={"days": 15, "reason": "x"},
        headers=bank.supervisor.headers,
    )
    assert refused.status_code == 409
    complaint = open_ticket(app_client, bank, ticket_type="complaint")["number"]
    odd = app_client.post(
        f"/api/tickets/{complaint}/extensions",
        json={"days": 20, "reason": "x"},
        headers=bank.supervisor.headers,
    )
    assert odd.status_code == 422


def test_who_may_request_and_approve_extensions(
    app_client: TestClient, clock: FrozenClock, bank: Bank
) -> None:
    number = open_ticket(app_client, bank, ticket_type="complaint")["number"]
    path = f"/api/tickets/{number}/extensions"
    body = {"days": 15, "reason": "x"}
    assert app_client.post(path, json=body).status_code == 401
    assert app_client.post(path, json=body, headers=bank.cards.headers).status_code == 403
    extension_id = app_client.post(path, json=body, headers=bank.complaints.headers).json()["id"]
    approve = f"{path}/{extension_id}/approve"
    assert app_client.post(approve).status_code == 401
    assert app_client.post(approve, headers=bank.complaints.headers).status_code == 403
    assert app_client.post(approve, headers=bank.supervisor.headers).status_code == 200
    assert app_client.post(approve, headers=bank.supervisor.headers).status_code == 409
    assert app_client.get(path).status_code == 401
    assert app_client.get(path, headers=bank.cards.headers).status_code == 403
    assert len(app_client.get(path, headers=bank.complaints.headers).json()) == 1


def test_the_watch_runs_as_a_chain_of_rq_jobs(
    app_client: TestClient, clock: FrozenClock, bank: Bank
) -> None:
    clock.set(local(2026, 11, 24, 10))
    number = open_ticket(app_client, bank)["number"]
    clock.set(local(2026, 11, 24, 11, 5))
    redis = services_of(app_client).redis
    assert SLA_WATCH.start(redis)
    assert not SLA_WATCH.start(redis)  # one chain at a time
    SimpleWorker(list(QUEUE_NAMES), connection=redis).work(burst=True)
    assert "sla_breach" in kinds(bank.ticket(app_client, number))
    assert redis.ttl(SLA_WATCH_CHAIN) > 60
    # The next link is scheduled a minute on.
    scheduled = redis.zrange("rq:scheduled:default", 0, -1)
    assert len(scheduled) == 1


def test_the_worker_keeps_the_sla_chain() -> None:
    assert "SLA_WATCH" in inspect.getsource(cli.cmd_worker)
