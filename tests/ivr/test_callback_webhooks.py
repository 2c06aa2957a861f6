"""The callback voice routes: signed, valid TwiML whatever comes, idempotent per CallSid/step."""

from __future__ import annotations

import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine
from sqlmodel import Session

from crm import callbacks
from crm.callbacks import CallbackPolicy
from hotline.business_hours import parse_calendar
from hotline.clock import FrozenClock
from tests.conftest import Twilio, call_params
from tests.crm.callback_world import add_ticket, callback_of, results
from tests.ivr.test_bad_input import assert_twiml, fields

CALL = "CA" + "5" * 32
PATHS = [
    "/twilio/voice/callback/answer?callback=1&attempt=1",
    "/twilio/voice/callback/choice?callback=1&attempt=1&step=1",
    "/twilio/voice/callback/choice?callback=x&attempt=&step=99999999999",
    "/twilio/voice/callback/status?callback=1&attempt=1",
]


def placed_callback(engine: Engine, clock: FrozenClock, *, language: str = "zh") -> int:
    """A follow-up whose attempt 1 was placed as CALL."""
    ticket_id = add_ticket(engine, clock, language=language)
    calendar = parse_calendar("always", timezone="Asia/Shanghai")
    with Session(engine) as session:
        callback = callbacks.schedule_followup(
            session=session, ticket_id=ticket_id, now=clock.now(),
            policy=CallbackPolicy(delay_seconds=0), calendar=calendar,
        )  # fmt: skip
        assert callback is not None and callback.id is not None
        callbacks.claim(session=session, callback_id=callback.id, attempts=0, now=clock.now(),
                        calendar=calendar)  # fmt: skip
        callbacks.record_placed(session=session, callback_id=callback.id, attempt=1,
                                call_sid=CALL, now=clock.now())  # fmt: skip
        session.commit()
        return callback.id


def outbound(**extra: str) -> dict[str, str]:
    return call_params(CALL, "+864008895555", To="+8613912345678", Direction="outbound-api",
                       **extra)  # fmt: skip


@pytest.mark.parametrize("path", PATHS)
def test_unsigned_or_forged_requests_are_refused_and_change_nothing(
    twilio: Twilio, redis_client: redis.Redis, path: str
) -> None:
    keys_before = set(redis_client.keys())
    assert twilio.post(path, outbound(), signature="").status_code == 403
    forged = twilio.sign(path, outbound(Digits="2"))
    assert twilio.post(path, outbound(Digits="1"), signature=forged).status_code == 403
    assert set(redis_client.keys()) == keys_before


def test_a_person_hears_the_case_number_in_their_language_first_then_the_choices(
    twilio: Twilio, engine: Engine, clock: FrozenClock
) -> None:
    callback_id = placed_callback(engine, clock, language="en")
    path = f"/twilio/voice/callback/answer?callback={callback_id}&attempt=1"
    root = assert_twiml(twilio.post(path, outbound(AnsweredBy="human")))
    gather = root.find("Gather")
    assert gather is not None and gather.get("numDigits") == "1"
    said = [say.text or "" for say in gather.iter("Say")]
    assert said[0].startswith("Hello") and "2 0 2 6 1 1 2 4 0 0 0 1" in said[0]
    assert any("人工服务请按2" in text for text in said)
    assert root.find("Redirect") is not None  # silence comes back to us
    assert callback_of(engine, callback_id).status == "answered"


def test_a_repeated_answer_request_gets_the_same_twiml(
    twilio: Twilio, engine: Engine, clock: FrozenClock
) -> None:
    callback_id = placed_callback(engine, clock)
    path = f"/twilio/voice/callback/answer?callback={callback_id}&attempt=1"
    first = twilio.post(path, outbound(AnsweredBy="unknown")).text
    assert twilio.post(path, outbound(AnsweredBy="unknown")).text == first


def test_a_key_is_applied_once_and_a_repeat_gets_the_same_answer(
    twilio: Twilio, engine: Engine, clock: FrozenClock
) -> None:
    callback_id = placed_callback(engine, clock)
    twilio.post(f"/twilio/voice/callback/answer?callback={callback_id}&attempt=1", outbound())
    path = f"/twilio/voice/callback/choice?callback={callback_id}&attempt=1&step=1"
    first = twilio.post(path, outbound(Digits="1")).text
    assert twilio.post(path, outbound(Digits="3")).text == first
    assert callback_of(engine, callback_id).outcome == "resolved"
    ticket_id = callback_of(engine, callback_id).ticket_id
    assert [r["outcome"] for r in results(engine, ticket_id)] == ["resolved"]


def test_silence_hears_the_choices_once_more_then_goodbye(
    twilio: Twilio, engine: Engine, clock: FrozenClock
) -> None:
    callback_id = placed_callback(engine, clock)
    twilio.post(f"/twilio/voice/callback/answer?callback={callback_id}&attempt=1", outbound())
    base = f"/twilio/voice/callback/choice?callback={callback_id}&attempt=1"
    again = assert_twiml(twilio.post(f"{base}&step=1", outbound()))
    assert again.find("Gather") is not None
    assert (again.find("Gather").get("action") or "").endswith("step=2")  # type: ignore[union-attr]
    last = assert_twiml(twilio.post(f"{base}&step=2", outbound()))
    assert last.find("Gather") is None and last.find("Hangup") is not None


def test_a_machine_gets_no_choices(twilio: Twilio, engine: Engine, clock: FrozenClock) -> None:
    callback_id = placed_callback(engine, clock)
    path = f"/twilio/voice/callback/answer?callback={callback_id}&attempt=1"
    root = assert_twiml(twilio.post(path, outbound(AnsweredBy="machine_start")))
    assert root.find("Gather") is None and root.find("Hangup") is not None
    assert callback_of(engine, callback_id).last_result == "machine"


def test_a_callback_cancelled_meanwhile_just_hangs_up(
    twilio: Twilio, engine: Engine, clock: FrozenClock
) -> None:
    path = "/twilio/voice/callback/answer?callback=999&attempt=1"
    root = assert_twiml(twilio.post(path, outbound(AnsweredBy="human")))
    assert [child.tag for child in root] == ["Hangup"]


def test_a_repeated_end_of_call_retries_once(
    twilio: Twilio, engine: Engine, clock: FrozenClock
) -> None:
    callback_id = placed_callback(engine, clock)
    path = f"/twilio/voice/callback/status?callback={callback_id}&attempt=1"
    for _ in range(2):
        assert_twiml(twilio.post(path, outbound(CallStatus="no-answer", SequenceNumber="2")))
    callback = callback_of(engine, callback_id)
    assert (callback.status, callback.last_result) == ("scheduled", "no-answer")
    assert len(results(engine, callback.ticket_id)) == 1


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(path=st.sampled_from(PATHS), params=fields, answered_by=st.text(max_size=20))
def test_any_signed_callback_request_gets_valid_twiml(
    twilio: Twilio, path: str, params: dict[str, str], answered_by: str
) -> None:
    clean = {key: value.replace("\x00", "") for key, value in {**params,
             "AnsweredBy": answered_by}.items()}  # fmt: skip
    assert_twiml(twilio.post(path, clean))
