"""The agent console's desk: `GET /api/agents/me/call`, the screen pop of the call offered to
the agent or on their line, driven through the signed voice webhooks."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine

from crm import service as crm
from crm.models import CustomerBase, EventKind, Segment, Ticket, TicketEvent, TicketStatus
from hotline.clock import FrozenClock
from hotline.db import session_scope
from routing import jobs
from tests.conftest import ADMIN_TOKEN, Twilio
from tests.ivr.caller import Caller
from tests.routing.staff import People, add_people

KNOWN = "+8613912345678"
STRANGER = "+8613612345678"


@pytest.fixture
def people(engine: Engine, clock: FrozenClock) -> People:
    return add_people(engine, clock)


def add_customer_with_tickets(engine: Engine, clock: FrozenClock) -> None:
    with session_scope(engine) as session:
        customer = crm.create_customer(
            session=session,
            data=CustomerBase(name="王<b>芳</b>", segment=Segment.vip, preferred_language="zh"),
            phones=[KNOWN],
            now=clock.now(),
        )
        for number, status in (("T20261120-0001", TicketStatus.open),
                               ("T20261101-0001", TicketStatus.closed)):  # fmt: skip
            ticket = Ticket(
                number=number, customer_id=customer.id, category="cards.bills",
                subject="账单疑问", status=status, created_at=clock.now(),
                updated_at=clock.now(), last_contact_at=clock.now(),
            )  # fmt: skip
            session.add(ticket)
            session.flush()
            assert ticket.id is not None
            for minutes, text in ((10, "first"), (5, "second"), (1, "third"), (0, "latest")):
                session.add(
                    TicketEvent(
                        ticket_id=ticket.id, at=clock.now() - timedelta(minutes=minutes),
                        kind=EventKind.note, data={"text": text},
                    )
                )  # fmt: skip


def make_available(twilio: Twilio, people: People) -> None:
    response = twilio.client.put(
        f"/api/agents/{people.me.agent_id}/state",
        json={"state": "available"},
        headers=people.me.headers,
    )
    assert response.status_code == 200, response.text


def offered_call(twilio: Twilio, clock: FrozenClock, people: People, number: str) -> Caller:
    """A caller pressing 1 (lost card) while `me` is the only free agent: offered to them."""
    make_available(twilio, people)
    caller = Caller(twilio, clock, number)
    caller.dial()
    caller.press("1")
    return caller


def desk(twilio: Twilio, people: People, who: str = "me") -> dict[str, object]:
    response = twilio.client.get("/api/agents/me/call", headers=getattr(people, who).headers)
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def test_an_offered_call_shows_the_caller_and_their_open_tickets(
    twilio: Twilio, clock: FrozenClock, engine: Engine, people: People
) -> None:
    add_customer_with_tickets(engine, clock)
    caller = offered_call(twilio, clock, people, KNOWN)
    body = desk(twilio, people)
    assert body["state"] == "reserved"
    call = body["call"]
    assert isinstance(call, dict)
    assert call["call_sid"] == caller.sid and call["phase"] == "offered"
    assert call["queue"] == "cards" and call["offered_at"] is not None
    assert call["caller"] == {
        "number_masked": "+86139****5678",
        "customer": {
            "id": call["caller"]["customer"]["id"],
            "name": "王<b>芳</b>",
            "segment": "vip",
            "preferred_language": "zh",
        },
    }
    (ticket,) = call["tickets"]  # the closed one is not shown
    assert ticket["number"] == "T20261120-0001" and ticket["status"] == "open"
    assert [entry["data"]["text"] for entry in ticket["latest"]] == ["latest", "third", "second"]


def test_an_answered_call_is_connected_then_wrap_up_after_the_caller_hangs_up(
    twilio: Twilio, clock: FrozenClock, engine: Engine, people: People
) -> None:
    add_customer_with_tickets(engine, clock)
    caller = offered_call(twilio, clock, people, KNOWN)
    clock.advance(4)
    jobs.router().offer_result(
        call_sid=caller.sid, agent_id=people.me.agent_id, outcome="answered", now=clock.now()
    )
    connected = desk(twilio, people)
    assert connected["state"] == "busy"
    assert isinstance(connected["call"], dict) and connected["call"]["phase"] == "connected"
    assert connected["call"]["answered_at"] is not None
    caller.hang_up(after=60)
    after = desk(twilio, people)
    assert after["state"] == "wrap_up"
    assert isinstance(after["call"], dict) and after["call"]["phase"] == "wrap_up"
    assert after["call"]["caller"]["customer"]["name"] == "王<b>芳</b>"


def test_an_unknown_caller_shows_the_masked_number_and_no_customer(
    twilio: Twilio, clock: FrozenClock, people: People
) -> None:
    offered_call(twilio, clock, people, STRANGER)
    call = desk(twilio, people)["call"]
    assert isinstance(call, dict)
    assert call["caller"] == {"number_masked": "+86136****5678", "customer": None}
    assert call["tickets"] == []


def test_no_call_when_the_agent_is_free(twilio: Twilio, people: People) -> None:
    make_available(twilio, people)
    body = desk(twilio, people)
    assert body["state"] == "available" and body["call"] is None
    assert body["since"] is not None


def test_an_agent_the_router_has_not_seen_is_offline_without_a_call(
    twilio: Twilio, people: People
) -> None:
    assert desk(twilio, people) | {"since": None} == {
        "state": "offline", "since": None, "reason": None, "call": None,
    }  # fmt: skip


def test_another_agent_does_not_see_my_call(
    twilio: Twilio, clock: FrozenClock, engine: Engine, people: People
) -> None:
    add_customer_with_tickets(engine, clock)
    offered_call(twilio, clock, people, KNOWN)
    assert desk(twilio, people, "other")["call"] is None
    assert desk(twilio, people, "supervisor")["call"] is None


@pytest.mark.parametrize(
    ("headers", "status", "error"),
    [({}, 401, "unauthorized"),
     ({"Authorization": "Bearer not-a-token"}, 401, "unauthorized"),
     ({"Authorization": f"Bearer {ADMIN_TOKEN}"}, 403, "forbidden")],
)  # fmt: skip
def test_only_a_signed_in_agent_has_a_desk(
    twilio: Twilio, people: People, headers: dict[str, str], status: int, error: str
) -> None:
    response = twilio.client.get("/api/agents/me/call", headers=headers)
    assert response.status_code == status
    assert response.json()["error"] == error
