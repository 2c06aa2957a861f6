"""PCI pause/resume over the API: who may, what reaches Twilio, idempotent, on the timeline."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from crm.models import EventKind, TicketEvent
from hotline.clock import FrozenClock
from hotline.outbox import OutboxMessage
from tests.conftest import Twilio
from tests.ivr.caller import Caller
from tests.routing.staff import People, add_people

STRANGER = "+8613612345678"


@pytest.fixture
def people(engine: Engine, clock: FrozenClock) -> People:
    return add_people(engine, clock)


def talking_to(twilio: Twilio, clock: FrozenClock, people: People) -> Caller:
    """A caller put through to `people.me`, who has answered."""
    me = people.me
    assert (
        twilio.client.put(
            f"/api/agents/{me.agent_id}/state", json={"state": "available"}, headers=me.headers
        ).status_code
        == 200
    )
    caller = Caller(twilio, clock, STRANGER)
    caller.dial()
    assert caller.press("1").root.find("Dial") is not None
    clock.advance(3)
    leg = {"CallSid": "CA" + "5" * 32, "ParentCallSid": caller.sid, "CallStatus": "in-progress"}
    twilio.post(f"/twilio/voice/agent-leg?agent={me.agent_id}", leg)
    return caller


def recording_updates(engine: Engine) -> list[dict[str, object]]:
    with Session(engine) as session:
        rows = session.exec(
            select(OutboxMessage)
            .where(OutboxMessage.operation == "calls.recordings.update")
            .order_by(col(OutboxMessage.id))
        ).all()
        return [row.payload for row in rows]


PAUSE_ACTIONS = ["pause", "resume"]


@pytest.mark.parametrize("action", PAUSE_ACTIONS)
@pytest.mark.parametrize(
    ("who", "status"),
    [("me", 200), ("supervisor", 200), ("admin", 200), ("other", 403), ("nobody", 401)],
)
def test_who_may_pause_and_resume(
    twilio: Twilio, clock: FrozenClock, people: People, action: str, who: str, status: int
) -> None:
    caller = talking_to(twilio, clock, people)
    headers = {} if who == "nobody" else getattr(people, who).headers
    response = twilio.client.post(f"/api/calls/{caller.sid}/recording/{action}", headers=headers)
    assert response.status_code == status


def test_pause_asks_twilio_to_skip_the_current_recording(
    twilio: Twilio, clock: FrozenClock, engine: Engine, people: People
) -> None:
    caller = talking_to(twilio, clock, people)
    url = f"/api/calls/{caller.sid}/recording"
    assert twilio.client.post(f"{url}/pause", headers=people.me.headers).json()["changed"]
    clock.advance(20)
    assert twilio.client.post(f"{url}/resume", headers=people.me.headers).json()["changed"]
    assert recording_updates(engine) == [
        {
            "call_sid": caller.sid,
            "recording_sid": "Twilio.CURRENT",
            "status": "paused",
            "pause_behavior": "skip",
        },
        {
            "call_sid": caller.sid,
            "recording_sid": "Twilio.CURRENT",
            "status": "in-progress",
            "pause_behavior": None,
        },
    ]


def test_pausing_a_paused_recording_changes_nothing(
    twilio: Twilio, clock: FrozenClock, engine: Engine, people: People
) -> None:
    caller = talking_to(twilio, clock, people)
    url = f"/api/calls/{caller.sid}/recording/pause"
    assert twilio.client.post(url, headers=people.me.headers).json()["changed"] is True
    again = twilio.client.post(url, headers=people.me.headers)
    assert again.status_code == 200
    assert again.json() == {"call_sid": caller.sid, "recording": "paused", "changed": False}
    assert len(recording_updates(engine)) == 1


def test_resuming_a_running_recording_changes_nothing(
    twilio: Twilio, clock: FrozenClock, engine: Engine, people: People
) -> None:
    caller = talking_to(twilio, clock, people)
    response = twilio.client.post(
        f"/api/calls/{caller.sid}/recording/resume", headers=people.me.headers
    )
    assert response.status_code == 200 and response.json()["changed"] is False
    assert recording_updates(engine) == []


def test_a_call_with_no_agent_on_it_cannot_be_paused(
    twilio: Twilio, clock: FrozenClock, people: People
) -> None:
    caller = Caller(twilio, clock, STRANGER)
    caller.dial()
    response = twilio.client.post(
        f"/api/calls/{caller.sid}/recording/pause", headers=people.supervisor.headers
    )
    assert response.status_code == 409 and response.json()["error"] == "conflict"


def test_pauses_reach_the_ticket_once_the_call_is_logged(
    twilio: Twilio, clock: FrozenClock, engine: Engine, people: People
) -> None:
    caller = talking_to(twilio, clock, people)
    url = f"/api/calls/{caller.sid}/recording"
    twilio.client.post(f"{url}/pause", headers=people.me.headers)
    clock.advance(15)
    twilio.client.post(f"{url}/resume", headers=people.supervisor.headers)
    caller.hang_up()
    with Session(engine) as session:
        events = session.exec(
            select(TicketEvent)
            .where(TicketEvent.kind == EventKind.recording)
            .order_by(col(TicketEvent.at))
        ).all()
    assert [(event.data["action"], event.actor) for event in events] == [
        ("paused", f"agent:{people.me.agent_id}"),
        ("resumed", f"agent:{people.supervisor.agent_id}"),
    ]
