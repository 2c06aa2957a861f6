"""Twilio repeats and reorders requests: nothing advances twice, nothing is logged twice."""

from __future__ import annotations

import random

import pytest
import redis
from sqlalchemy import Engine, func
from sqlmodel import Session, select

from crm.models import CallDisposition, CallLog, Ticket, TicketEvent
from hotline.clock import FrozenClock
from ivr.models import ParkedCallEvent
from ivr.session import SessionStore
from tests.conftest import Twilio, call_params
from tests.ivr.caller import Caller
from tests.twiml import Answer

STRANGER = "+8613612345678"


def count(engine: Engine, model: type) -> int:
    with Session(engine) as session:
        return int(session.exec(select(func.count()).select_from(model)).one())


def test_a_repeated_incoming_request_gets_the_same_answer(
    twilio: Twilio, clock: FrozenClock
) -> None:
    caller = Caller(twilio, clock, STRANGER)
    first = caller.dial()
    clock.advance(2)
    again = caller.dial()
    assert again.root.find("Gather") is not None
    assert first.said() == again.said() and first.step() == again.step() == 1


def test_a_repeated_gather_step_does_not_advance_twice(
    twilio: Twilio, clock: FrozenClock, engine: Engine
) -> None:
    caller = Caller(twilio, clock, STRANGER)
    welcome = caller.dial()
    path = welcome.next_step_path()
    sub_menu = caller.press("2")
    # Twilio timed out and sent step 1 again, now with another digit: the first answer stands.
    repeat = Answer.of(twilio.post(path, call_params(caller.sid, STRANGER, Digits="3")))
    assert repeat.said() == sub_menu.said() and repeat.step() == sub_menu.step()
    assert caller.press("1").enqueued() == "cards"
    caller.hang_up()
    with Session(engine) as session:
        log = session.exec(select(CallLog).where(CallLog.call_sid == caller.sid)).one()
    assert [step["choice"] for step in log.ivr_path] == ["2", "1"]


def test_a_step_from_the_future_repeats_the_current_prompt(
    twilio: Twilio, clock: FrozenClock
) -> None:
    caller = Caller(twilio, clock, STRANGER)
    caller.dial()
    odd = Answer.of(
        twilio.post("/twilio/voice/gather?step=7", call_params(caller.sid, STRANGER, Digits="5"))
    )
    assert odd.enqueued() is None and odd.step() == 1
    assert caller.press("5").enqueued() == "complaints"


def test_unknown_call_on_a_later_step_starts_at_the_menu(
    twilio: Twilio, clock: FrozenClock
) -> None:
    answer = Answer.of(
        twilio.post(
            "/twilio/voice/gather?step=3", call_params("CA" + "f" * 32, STRANGER, Digits="1")
        )
    )
    assert answer.gather() is not None and "挂失请按1" in answer.said()


def test_status_callbacks_repeated_and_shuffled_log_the_call_once(
    twilio: Twilio, clock: FrozenClock, engine: Engine
) -> None:
    caller = Caller(twilio, clock, STRANGER)
    caller.dial()
    caller.press("3")
    events = [("initiated", 0), ("ringing", 1), ("in-progress", 2), ("completed", 3)]
    deliveries = events * 2
    random.Random(7).shuffle(deliveries)
    for status, sequence in deliveries:
        params = call_params(
            caller.sid, STRANGER, CallStatus=status, SequenceNumber=sequence, CallDuration="30"
        )
        assert twilio.post("/twilio/voice/status", params).status_code == 200
        twilio.run_jobs()
    assert count(engine, CallLog) == 1
    assert count(engine, Ticket) == 1
    assert count(engine, TicketEvent) == 2  # created + one call
    with Session(engine) as session:
        log = session.exec(select(CallLog)).one()
    assert log.disposition == CallDisposition.abandoned and log.duration_seconds == 30


def test_queue_result_after_the_call_was_logged_changes_nothing(
    twilio: Twilio, clock: FrozenClock, engine: Engine
) -> None:
    caller = Caller(twilio, clock, STRANGER)
    caller.dial()
    caller.press("0")
    caller.hang_up()
    late = twilio.post(
        "/twilio/voice/queue-result?lang=zh",
        call_params(caller.sid, STRANGER, QueueResult="hangup", QueueTime="20"),
    )
    assert Answer.of(late).verbs() == ["Hangup"]
    twilio.run_jobs()
    assert count(engine, CallLog) == 1


def test_a_queue_error_offers_voicemail_instead_of_dropping_the_caller(
    twilio: Twilio, clock: FrozenClock
) -> None:
    caller = Caller(twilio, clock, STRANGER)
    caller.dial()
    caller.press("0")
    answer = Answer.of(
        twilio.post(
            "/twilio/voice/queue-result?lang=zh",
            call_params(caller.sid, STRANGER, QueueResult="queue-full"),
        )
    )
    assert answer.record() is not None and "暂时无法为您接通" in answer.said()


def test_wait_loop_announces_position_in_the_callers_language(
    twilio: Twilio, clock: FrozenClock
) -> None:
    params = call_params(
        "CA" + "a" * 32, STRANGER, QueuePosition="3", QueueTime="40", CurrentQueueSize="5"
    )
    answer = Answer.of(twilio.post("/twilio/voice/wait?lang=en", params))
    assert "number 3 in the queue" in answer.said()
    assert set(answer.verbs()) <= {"Say", "Play", "Pause", "Hangup", "Redirect", "Leave", "Gather"}
    chinese = Answer.of(twilio.post("/twilio/voice/wait?lang=zh", params))
    assert "您前面还有3位客户" in chinese.said()


def test_a_call_end_redis_could_not_take_is_parked_then_logged_once(
    twilio: Twilio, clock: FrozenClock, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    caller = Caller(twilio, clock, STRANGER)
    caller.dial()
    caller.press("3")
    params = call_params(
        caller.sid, STRANGER, CallStatus="completed", SequenceNumber="3", CallDuration="30"
    )

    async def refuse(*args: object, **kwargs: object) -> None:
        raise redis.ConnectionError("Redis went away")

    with monkeypatch.context() as patch:
        patch.setattr(SessionStore, "note_ended", refuse)
        assert twilio.post("/twilio/voice/status", params).status_code == 200
    assert count(engine, ParkedCallEvent) == 1
    twilio.run_jobs()  # Twilio sends a status callback once: the parked event is enough
    assert count(engine, CallLog) == 1 and count(engine, ParkedCallEvent) == 0
    assert twilio.post("/twilio/voice/status", params).status_code == 200  # a repeat anyway
    twilio.run_jobs()
    assert count(engine, CallLog) == 1
