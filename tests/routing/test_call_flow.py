"""Calls reaching agents through the webhooks, on real Redis, as Twilio drives them."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
import redis
from sqlalchemy import Engine
from sqlmodel import Session, select
from twilio.base.exceptions import TwilioRestException

from crm.models import CallDisposition, CallLog
from hotline.clock import FrozenClock
from hotline.jobs import services
from hotline.outbox import OutboxMessage
from routing import jobs
from routing.engine import SyncRouter
from routing.router_types import AgentProfile
from tests.conftest import Twilio, call_params
from tests.ivr.caller import Caller
from tests.twiml import Answer

STRANGER = "+8613612345678"


@pytest.fixture
def router(twilio: Twilio) -> Iterator[SyncRouter]:
    yield jobs.router()


def ready(router: SyncRouter, clock: FrozenClock, agent_id: int, **skills: int) -> None:
    profile = AgentProfile(
        agent_id=agent_id, skills=skills or {"cards": 8}, languages=["zh", "en"],
        contact=f"client:agent_{agent_id}",
    )  # fmt: skip
    router.agent_ready(agent=profile, now=clock.now())


def dial_target(answer: Answer) -> tuple[str, str]:
    dial = answer.root.find("Dial")
    assert dial is not None, answer.verbs()
    client = dial.find("Client")
    assert client is not None and client.text
    return client.text, dial.get("action") or ""


def dial_result(
    twilio: Twilio, caller: Caller, action: str, status: str, duration: int = 0
) -> Answer:
    params = call_params(
        caller.sid, caller.number, DialCallStatus=status, DialCallDuration=str(duration)
    )
    return Answer.of(twilio.post(action, params))


def test_a_free_agent_is_dialled_at_once(
    twilio: Twilio, clock: FrozenClock, router: SyncRouter
) -> None:
    ready(router, clock, 7)
    caller = Caller(twilio, clock, STRANGER)
    caller.dial()
    answer = caller.press("1")
    target, action = dial_target(answer)
    assert target == "agent_7"
    dial = answer.root.find("Dial")
    assert (
        dial is not None
        and dial.get("timeout") == "20"
        and dial.get("record") == "record-from-answer-dual"
    )
    assert action.startswith("/twilio/voice/dial-result?agent=7")
    assert router.agent_state(7)["state"] == "reserved"


def test_answered_call_is_logged_answered_and_the_agent_wraps_up(
    twilio: Twilio, clock: FrozenClock, router: SyncRouter, engine: Engine
) -> None:
    ready(router, clock, 7)
    caller = Caller(twilio, clock, STRANGER)
    caller.dial()
    _, action = dial_target(caller.press("1"))
    leg = call_params(
        "CA" + "9" * 32, "client:agent_7", CallStatus="in-progress", ParentCallSid=caller.sid
    )
    clock.advance(4)
    assert twilio.post("/twilio/voice/agent-leg?agent=7", leg).status_code == 200
    assert router.agent_state(7)["state"] == "busy"
    clock.advance(120)
    bye = dial_result(twilio, caller, action, "completed", duration=120)
    assert bye.verbs()[-1] == "Hangup"
    agent = router.agent_state(7)
    assert agent["state"] == "wrap_up"
    caller.hang_up(after=1, duration=130)
    with Session(engine) as session:
        log = session.exec(select(CallLog).where(CallLog.call_sid == caller.sid)).one()
    assert log.disposition == CallDisposition.answered
    clock.advance(28)  # 29 s after the talk ended
    jobs.tick()
    assert router.agent_state(7)["state"] == "wrap_up"
    clock.advance(1)  # HOTLINE_WRAPUP_SECONDS is 30
    jobs.tick()
    assert router.agent_state(7)["state"] == "available"


def test_no_answer_rings_the_next_agent_and_holds_the_first_back(
    twilio: Twilio, clock: FrozenClock, router: SyncRouter
) -> None:
    ready(router, clock, 1)
    clock.advance(1)
    ready(router, clock, 2)
    caller = Caller(twilio, clock, STRANGER)
    caller.dial()
    first, action = dial_target(caller.press("1"))
    assert first == "agent_1"  # idle longest
    clock.advance(20)
    second, _ = dial_target(dial_result(twilio, caller, action, "no-answer"))
    assert second == "agent_2"
    assert router.agent_state(1)["state"] == "missed"


def test_no_answer_with_nobody_free_goes_back_to_the_queue(
    twilio: Twilio, clock: FrozenClock, router: SyncRouter
) -> None:
    ready(router, clock, 1)
    caller = Caller(twilio, clock, STRANGER)
    caller.dial()
    _, action = dial_target(caller.press("1"))
    assert dial_result(twilio, caller, action, "busy").enqueued() == "cards"
    assert router.call_state(caller.sid)["state"] == "waiting"


class QueueLeftAlready:
    """Twilio's answer to a push for a caller no longer in the queue."""

    def redirect_queue_member(self, *, queue_sid: str, call_sid: str, url: str) -> None:
        raise TwilioRestException(404, f"/Queues/{queue_sid}/Members/{call_sid}", code=20404)


def test_a_push_for_a_caller_who_left_the_queue_is_one_quiet_line(
    twilio: Twilio,
    clock: FrozenClock,
    router: SyncRouter,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caller = Caller(twilio, clock, STRANGER)
    caller.dial()
    caller.press("1")
    wait = call_params(
        caller.sid, STRANGER, QueueSid="QU" + "1" * 32, QueuePosition="1", QueueTime="5"
    )
    twilio.post("/twilio/voice/wait?lang=zh", wait)
    ready(router, clock, 5)
    monkeypatch.setattr(services(), "gateway", QueueLeftAlready())
    with caplog.at_level(logging.INFO, logger="routing.jobs"):
        assert jobs.push_offer(caller.sid, 5) == "left_to_wait_loop"
    (line,) = [r for r in caplog.records if r.name == "routing.jobs"]
    assert (line.levelno, line.exc_info) == (logging.INFO, None)
    assert "no longer queued" in line.getMessage()
    # The offer stands: the wait loop still takes the caller to the agent.
    assert router.call_state(caller.sid)["state"] == "offered"
    assert Answer.of(twilio.post("/twilio/voice/wait?lang=zh", wait)).verbs() == ["Leave"]


def test_a_repeated_dial_result_does_not_punish_the_next_agent(
    twilio: Twilio, clock: FrozenClock, router: SyncRouter
) -> None:
    ready(router, clock, 1)
    ready(router, clock, 2)
    caller = Caller(twilio, clock, STRANGER)
    caller.dial()
    _, action = dial_target(caller.press("1"))
    dial_result(twilio, caller, action, "no-answer")
    again = dial_result(twilio, caller, action, "no-answer")
    assert dial_target(again)[0] == "agent_2"
    assert router.agent_state(2)["state"] == "reserved"


def test_waiting_caller_leaves_the_queue_when_an_agent_frees_up(
    twilio: Twilio, clock: FrozenClock, router: SyncRouter
) -> None:
    caller = Caller(twilio, clock, STRANGER)
    caller.dial()
    assert caller.press("1").enqueued() == "cards"
    wait = call_params(
        caller.sid, STRANGER, QueueSid="QU" + "1" * 32, QueuePosition="1", QueueTime="5"
    )
    holding = Answer.of(twilio.post("/twilio/voice/wait?lang=zh", wait))
    assert "您前面还有1位客户" in holding.said()
    clock.advance(10)
    ready(router, clock, 5)
    assert router.call_state(caller.sid)["state"] == "offered"
    # The push goes over REST (here to the outbox); the wait loop would leave by itself too.
    assert jobs.push_offer(caller.sid, 5) == "pushed"
    with Session(services().engine) as session:
        pushed = session.exec(select(OutboxMessage)).all()
    assert pushed[0].operation == "queues.members.update"
    assert pushed[0].payload["url"].endswith("/twilio/voice/connect?agent=5")
    assert Answer.of(twilio.post("/twilio/voice/wait?lang=zh", wait)).verbs() == ["Leave"]
    left = Answer.of(
        twilio.post(
            "/twilio/voice/queue-result?lang=zh",
            call_params(caller.sid, STRANGER, QueueResult="leave"),
        )
    )
    assert dial_target(left)[0] == "agent_5"
    connect = Answer.of(
        twilio.post("/twilio/voice/connect?agent=5", call_params(caller.sid, STRANGER))
    )
    assert dial_target(connect)[0] == "agent_5"


def test_hang_up_while_ringing_frees_the_agent(
    twilio: Twilio, clock: FrozenClock, router: SyncRouter, engine: Engine
) -> None:
    ready(router, clock, 3)
    caller = Caller(twilio, clock, STRANGER)
    caller.dial()
    caller.press("1")
    caller.hang_up(after=5, duration=20)
    assert router.agent_state(3)["state"] == "available"
    with Session(engine) as session:
        log = session.exec(select(CallLog).where(CallLog.call_sid == caller.sid)).one()
    assert log.disposition == CallDisposition.abandoned


def test_hang_up_while_waiting_leaves_no_ghost(
    twilio: Twilio, clock: FrozenClock, router: SyncRouter
) -> None:
    caller = Caller(twilio, clock, STRANGER)
    caller.dial()
    caller.press("4")
    caller.hang_up(after=30)
    assert router.call_state(caller.sid)["state"] == "gone"
    ready(router, clock, 9, loans=5)
    assert router.agent_state(9)["state"] == "available"


def test_escalation_job_reaches_a_lower_level_agent(
    twilio: Twilio, clock: FrozenClock, router: SyncRouter
) -> None:
    ready(router, clock, 4, cards=3)
    caller = Caller(twilio, clock, STRANGER)
    caller.dial()
    assert caller.press("2").gather() is not None
    assert caller.press("1").enqueued() == "cards"  # level 3 is below the first step's 5
    clock.advance(29)
    assert jobs.tick() == 0
    clock.advance(2)
    assert jobs.tick() == 1  # the step at 30 s falls due and lets level 3 in
    assert router.call_state(caller.sid)["agent"] == "4"


def test_offer_without_a_dial_result_expires(
    twilio: Twilio, clock: FrozenClock, router: SyncRouter
) -> None:
    ready(router, clock, 6)
    caller = Caller(twilio, clock, STRANGER)
    caller.dial()
    caller.press("1")
    clock.advance(49)  # ring time 20 s + 30 s of grace
    jobs.tick()
    assert router.agent_state(6)["state"] == "reserved"
    clock.advance(1)
    jobs.tick()
    assert router.agent_state(6)["state"] == "missed"
    assert router.call_state(caller.sid)["state"] == "waiting"


def test_redis_flushed_mid_call_still_gets_twiml(
    twilio: Twilio, clock: FrozenClock, redis_client: redis.Redis
) -> None:
    caller = Caller(twilio, clock, STRANGER)
    caller.dial()
    redis_client.flushdb()
    answer = caller.press("1")
    assert answer.gather() is not None or answer.enqueued() is not None


def test_a_caller_queued_while_redis_was_away_is_picked_up_by_the_wait_loop(
    twilio: Twilio, clock: FrozenClock, router: SyncRouter
) -> None:
    # The fallback TwiML put this caller into the general queue without the router knowing.
    sid = "CA" + "7" * 32
    ready(router, clock, 8, general=4)
    wait = call_params(sid, STRANGER, QueueSid="QU" + "2" * 32, QueuePosition="1", QueueTime="12")
    answer = Answer.of(twilio.post("/twilio/voice/wait?queue=general", wait))
    assert answer.verbs() == ["Leave"]
    assert router.call_state(sid)["agent"] == "8"
