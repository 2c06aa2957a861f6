"""Whole IVR journeys over signed webhooks: TwiML heard, then the call log and ticket written."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from crm import service as crm
from crm.models import Callback, CallDisposition, CallLog, CustomerBase, EventKind, Segment, Ticket
from hotline.clock import FrozenClock
from tests.conftest import Twilio
from tests.ivr.caller import Caller

VIP = "+8613800138000"
ENGLISH = "+8613700137000"
STRANGER = "+8613612345678"


@pytest.fixture(autouse=True)
def customers(engine: Engine, clock: FrozenClock) -> None:
    with Session(engine) as session:
        crm.create_customer(
            session=session,
            data=CustomerBase(name="张伟", segment=Segment.vip),
            phones=[VIP],
            now=clock.now(),
        )
        crm.create_customer(
            session=session,
            data=CustomerBase(name="Emily Chen", preferred_language="en"),
            phones=[ENGLISH],
            now=clock.now(),
        )
        session.commit()


def call_log(engine: Engine, caller: Caller) -> CallLog:
    with Session(engine) as session:
        log = session.exec(select(CallLog).where(CallLog.call_sid == caller.sid)).one()
        return log


def ticket_of(engine: Engine, log: CallLog) -> Ticket:
    with Session(engine) as session:
        ticket = session.get(Ticket, log.ticket_id)
        assert ticket is not None
        return ticket


@pytest.mark.parametrize(
    ("keys", "queue", "category"),
    [
        (["1"], "cards", "cards.lost_stolen"),
        (["2", "1"], "cards", "cards.bills"),
        (["2", "2"], "cards", "cards.activation"),
        (["2", "3"], "transactions", "transactions.dispute"),
        (["3"], "accounts", "accounts"),
        (["4"], "loans", "loans_wealth"),
        (["5"], "complaints", "complaint"),
        (["0"], "general", "other"),
    ],
)
def test_each_menu_branch_queues_for_its_skill_and_files_a_ticket(
    twilio: Twilio, clock: FrozenClock, engine: Engine, keys: list[str], queue: str, category: str
) -> None:
    caller = Caller(twilio, clock, STRANGER)
    welcome = caller.dial()
    assert "欢迎致电" in welcome.said()
    answer = welcome
    for key in keys:
        answer = caller.press(key)
    assert answer.enqueued() == queue
    caller.hang_up(after=40)

    log = call_log(engine, caller)
    assert log.disposition == CallDisposition.abandoned
    assert log.skill == queue and log.category == category
    assert [step["choice"] for step in log.ivr_path] == keys
    ticket = ticket_of(engine, log)
    assert ticket.category == category and ticket.channel == "phone"
    assert ticket.number.startswith("T20261124-")
    assert ticket.contact_phone == STRANGER
    assert ticket.complaint == (category == "complaint")


def test_mandarin_first_with_english_offered_in_an_english_voice(
    twilio: Twilio, clock: FrozenClock
) -> None:
    answer = Caller(twilio, clock, STRANGER).dial()
    gather = answer.gather()
    assert gather.get("language") == "cmn-Hans-CN"
    assert gather.get("input") == "dtmf speech"
    assert any("For English, press 9" in text for text in answer.says_in("en-US"))
    assert all(
        say.get("voice") == "Polly.Zhiyu-Neural"
        for say in answer.root.iter("Say")
        if say.get("language") == "cmn-CN"
    )


def test_nine_switches_to_english_and_the_call_is_logged_in_english(
    twilio: Twilio, clock: FrozenClock, engine: Engine
) -> None:
    caller = Caller(twilio, clock, STRANGER)
    caller.dial()
    english = caller.press("9")
    assert english.gather().get("language") == "en-US"
    assert "lost or stolen card, press 1" in english.said()
    assert caller.press("3").enqueued() == "accounts"
    caller.hang_up()
    assert call_log(engine, caller).language == "en"


def test_known_customer_who_prefers_english_is_greeted_in_english(
    twilio: Twilio, clock: FrozenClock
) -> None:
    answer = Caller(twilio, clock, ENGLISH).dial()
    assert answer.gather().get("language") == "en-US"
    assert "Welcome" in answer.said()
    assert "Emily" not in answer.said()  # no personal data read out


@pytest.mark.parametrize(
    ("words", "queue"),
    [
        ("我的卡丢了，要挂失", "cards"),
        ("我要投诉", "complaints"),
        ("转人工", "general"),
        ("转账", "accounts"),
    ],
)
def test_mandarin_speech_picks_the_branch(
    twilio: Twilio, clock: FrozenClock, words: str, queue: str
) -> None:
    caller = Caller(twilio, clock, STRANGER)
    caller.dial()
    assert caller.say(words).enqueued() == queue


def test_english_speech_picks_the_branch(twilio: Twilio, clock: FrozenClock) -> None:
    caller = Caller(twilio, clock, STRANGER)
    caller.dial()
    caller.press("9")
    assert caller.say("I want to make a complaint").enqueued() == "complaints"


def test_speech_reaches_the_credit_card_sub_menu(twilio: Twilio, clock: FrozenClock) -> None:
    caller = Caller(twilio, clock, STRANGER)
    caller.dial()
    sub_menu = caller.say("信用卡")
    assert "账单与还款请按1" in sub_menu.said()
    assert caller.say("还款").enqueued() == "cards"


def test_silence_and_bad_keys_reprompt_then_go_to_an_agent(
    twilio: Twilio, clock: FrozenClock, engine: Engine
) -> None:
    caller = Caller(twilio, clock, STRANGER)
    caller.dial()
    first = caller.stay_silent()
    assert "没有听清" in first.said() and first.gather() is not None
    second = caller.press("8")
    assert "没有听清" in second.said()
    third = caller.stay_silent()
    assert third.enqueued() == "general"
    caller.hang_up()
    log = call_log(engine, caller)
    assert [step["input"] for step in log.ivr_path] == ["none", "dtmf", "none"]
    assert log.ivr_path[-1]["gave_up"] is True


def test_star_goes_back_from_the_sub_menu(twilio: Twilio, clock: FrozenClock) -> None:
    caller = Caller(twilio, clock, STRANGER)
    caller.dial()
    caller.press("2")
    assert "挂失请按1" in caller.press("*").said()


def test_vip_lost_card_gets_top_priority(
    twilio: Twilio, clock: FrozenClock, engine: Engine
) -> None:
    caller = Caller(twilio, clock, VIP)
    caller.dial()
    caller.press("3")
    caller.hang_up()
    log = call_log(engine, caller)
    assert log.priority == 2  # accounts is 3; VIP lifts it one step
    assert log.customer_id is not None
    lost = Caller(twilio, clock, STRANGER)
    lost.dial()
    lost.press("1")
    lost.hang_up()
    assert call_log(engine, lost).priority == 1


def test_hang_up_in_the_menu_is_logged_on_a_ticket(
    twilio: Twilio, clock: FrozenClock, engine: Engine
) -> None:
    caller = Caller(twilio, clock, STRANGER)
    caller.dial()
    caller.press("2")
    caller.hang_up(duration=14)
    log = call_log(engine, caller)
    assert log.disposition == CallDisposition.completed_in_ivr
    assert log.duration_seconds == 14
    assert ticket_of(engine, log).category == "other"


def test_repeat_contact_attaches_to_the_open_ticket(
    twilio: Twilio, clock: FrozenClock, engine: Engine
) -> None:
    numbers = []
    for _ in range(2):
        caller = Caller(twilio, clock, VIP)
        caller.dial()
        caller.press("4")
        caller.hang_up()
        numbers.append(call_log(engine, caller).ticket_id)
        clock.advance(3600)
    assert numbers[0] == numbers[1]
    with Session(engine) as session:
        ticket = session.get(Ticket, numbers[0])
        assert ticket is not None and ticket.repeat_count == 1
        calls = [
            event
            for event in crm.timeline(session=session, ticket_id=numbers[0])
            if event.kind == EventKind.call
        ]
        assert len(calls) == 2
        assert calls[0].data["from"] == "+86138****8000"


def test_a_different_category_opens_a_new_ticket(
    twilio: Twilio, clock: FrozenClock, engine: Engine
) -> None:
    tickets = set()
    for key in ("3", "4"):
        caller = Caller(twilio, clock, VIP)
        caller.dial()
        caller.press(key)
        caller.hang_up()
        tickets.add(call_log(engine, caller).ticket_id)
    assert len(tickets) == 2


def test_ticket_timeline_shows_the_call_with_its_metadata(
    twilio: Twilio,
    clock: FrozenClock,
    engine: Engine,
    app_client: object,
    admin_headers: dict[str, str],
) -> None:
    caller = Caller(twilio, clock, STRANGER)
    caller.dial()
    caller.press("5")
    caller.hang_up(after=30, duration=45)
    number = ticket_of(engine, call_log(engine, caller)).number
    response = twilio.client.get(f"/api/tickets/{number}", headers=admin_headers)
    assert response.status_code == 200
    body = response.json()
    assert body["ticket_type"] == "complaint" and body["priority"] == 2
    kinds = [event["kind"] for event in body["timeline"]]
    assert kinds == ["created", "call"]
    call = body["timeline"][1]["data"]
    assert call["call_sid"] == caller.sid
    assert call["skill"] == "complaints" and call["disposition"] == "abandoned"
    assert call["queue_wait_seconds"] == 30.0
    assert call["from"] == "+86136****5678"


def test_case_progress_is_told_to_the_customer_who_owns_it(
    twilio: Twilio, clock: FrozenClock, engine: Engine
) -> None:
    first = Caller(twilio, clock, VIP)
    first.dial()
    first.press("5")
    first.hang_up()
    number = ticket_of(engine, call_log(engine, first)).number
    digits = number[1:].replace("-", "")

    caller = Caller(twilio, clock, VIP)
    caller.dial()
    prompt = caller.press("6")
    assert prompt.gather().get("finishOnKey") == "#"
    told = caller.press(digits)
    assert "已受理" in told.said()
    assert " ".join(digits) in told.said()
    caller.hang_up()
    assert call_log(engine, caller).disposition == CallDisposition.self_service


def test_case_progress_is_not_told_to_another_number(
    twilio: Twilio, clock: FrozenClock, engine: Engine
) -> None:
    first = Caller(twilio, clock, VIP)
    first.dial()
    first.press("5")
    first.hang_up()
    digits = ticket_of(engine, call_log(engine, first)).number[1:].replace("-", "")

    stranger = Caller(twilio, clock, STRANGER)
    stranger.dial()
    stranger.press("6")
    answer = stranger.press(digits)
    assert "未能在您的来电号码下找到该案件" in answer.said()
    assert "已受理" not in answer.said()
    answer = stranger.press("999999999999")
    answer = stranger.press("123")
    assert "挂失请按1" in answer.said()  # back to the main menu after the retries


def test_after_hours_caller_leaves_a_voicemail_and_gets_a_callback_next_morning(
    twilio: Twilio, clock: FrozenClock, engine: Engine
) -> None:
    clock.set(datetime(2026, 11, 24, 14, 30, tzinfo=UTC))  # 22:30 in Shanghai
    caller = Caller(twilio, clock, VIP)
    answer = caller.dial()
    assert "非工作时间" in answer.said()
    record_prompt = caller.stay_silent()
    record = record_prompt.record()
    assert (
        record is not None and record.get("recordingStatusCallback") == "/twilio/recordings/status"
    )
    thanks = caller.leave_message(seconds=20)
    assert thanks.verbs()[-1] == "Hangup"
    caller.hang_up(after=1, duration=45)

    log = call_log(engine, caller)
    assert log.disposition == CallDisposition.voicemail and log.after_hours
    with Session(engine) as session:
        callback = session.exec(
            select(Callback).where(Callback.origin_call_sid == caller.sid)
        ).one()
        # Next morning, 08:00 Shanghai (Wednesday) = 00:00 UTC.
        assert callback.due_at == datetime(2026, 11, 25, 0, 0, tzinfo=UTC)
        assert callback.phone == VIP and callback.ticket_id == log.ticket_id


def test_after_hours_lost_card_is_still_answered(
    twilio: Twilio, clock: FrozenClock, engine: Engine
) -> None:
    clock.set(datetime(2026, 11, 28, 18, 0, tzinfo=UTC))  # Sunday 02:00 in Shanghai
    caller = Caller(twilio, clock, STRANGER)
    caller.dial()
    assert caller.press("1").enqueued() == "cards"
    caller.hang_up()
    log = call_log(engine, caller)
    assert log.after_hours and log.disposition == CallDisposition.abandoned


def test_holiday_is_after_hours(twilio: Twilio, clock: FrozenClock) -> None:
    clock.set(datetime(2026, 10, 1, 3, 0, tzinfo=UTC))  # 11:00 on National Day
    assert "非工作时间" in Caller(twilio, clock, STRANGER).dial().said()


def test_after_hours_caller_who_hangs_up_without_a_message(
    twilio: Twilio, clock: FrozenClock, engine: Engine
) -> None:
    clock.set(datetime(2026, 11, 24, 14, 30, tzinfo=UTC))
    caller = Caller(twilio, clock, STRANGER)
    caller.dial()
    caller.hang_up()
    log = call_log(engine, caller)
    assert log.disposition == CallDisposition.after_hours
