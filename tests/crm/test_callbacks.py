"""Callbacks in the database and the jobs: when they are due, claims, recovery, cancelling.
Calls go to the outbox gateway here (its rows are the calls placed); the emulator tests are in
test_callback_calls.py."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import redis
from rq import SimpleWorker
from sqlalchemy import Engine
from sqlmodel import Session, select
from twilio.base.exceptions import TwilioRestException

from crm import callback_jobs, callback_results, callbacks
from crm import service as crm
from crm.callbacks import CallbackPolicy
from crm.models import Callback, CallRecord, Customer, TicketType
from hotline.clock import FrozenClock
from hotline.context import Services
from hotline.jobs import use_services
from hotline.outbox import OutboxMessage
from hotline.settings import Settings
from tests.crm.callback_world import CUSTOMER_PHONE, add_ticket, callback_of, results

NOW = CallbackPolicy(delay_seconds=0)


@pytest.fixture
def svc(settings: Settings, clock: FrozenClock, redis_client: redis.Redis) -> Iterator[Services]:
    services = Services.build(settings, clock=clock, redis_client=redis_client)
    use_services(services)
    yield services
    use_services(None)
    services.engine.dispose()


def work(redis_client: redis.Redis) -> None:
    callback_jobs.sweep_callbacks()
    SimpleWorker(["callbacks"], connection=redis_client).work(burst=True)


def calls_placed(engine: Engine) -> list[dict[str, object]]:
    with Session(engine) as session:
        rows = session.exec(
            select(OutboxMessage).where(OutboxMessage.operation == "calls.create")
        ).all()
        return [row.payload for row in rows]


def followup(svc: Services, ticket_id: int, policy: CallbackPolicy = NOW) -> Callback | None:
    with Session(svc.engine, expire_on_commit=False) as session:
        callback = crm.schedule_followup(
            session=session, ticket_id=ticket_id, now=svc.clock.now(), policy=policy,
            calendar=svc.calendar,
        )  # fmt: skip
        session.commit()
        return callback


# --- when ------------------------------------------------------------------------------------


def test_a_complaint_is_followed_up_the_next_business_day_at_ten(svc: Services) -> None:
    resolved = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)  # Tuesday 10:00 in Shanghai
    due = callbacks.followup_due(
        ticket_type="complaint", resolved_at=resolved, policy=CallbackPolicy(),
        calendar=svc.calendar,
    )  # fmt: skip
    assert due == datetime(2026, 11, 25, 2, 0, tzinfo=UTC)  # Wednesday 10:00


def test_an_inquiry_is_followed_up_hours_later_inside_business_hours(svc: Services) -> None:
    resolved = datetime(2026, 11, 24, 10, 30, tzinfo=UTC)  # Tuesday 18:30: +3 h is closed
    due = callbacks.followup_due(
        ticket_type="inquiry", resolved_at=resolved, policy=CallbackPolicy(),
        calendar=svc.calendar,
    )  # fmt: skip
    assert due == datetime(2026, 11, 25, 0, 0, tzinfo=UTC)  # Wednesday 08:00 opening


def test_the_delay_setting_overrides_every_type(settings: Settings, svc: Services) -> None:
    policy = CallbackPolicy.from_settings(
        settings.model_copy(update={"callback_delay_seconds": 60})
    )
    resolved = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
    for kind in ("complaint", "inquiry"):
        due = callbacks.followup_due(
            ticket_type=kind, resolved_at=resolved, policy=policy, calendar=svc.calendar
        )
        assert due == resolved + timedelta(seconds=60)


def test_no_follow_up_without_consent_to_calls(
    svc: Services, engine: Engine, clock: FrozenClock
) -> None:
    ticket_id = add_ticket(engine, clock, consent_calls=False)
    assert followup(svc, ticket_id) is None
    with Session(engine) as session:
        assert session.exec(select(Callback)).all() == []


def test_consent_withdrawn_before_the_call_cancels_it(
    svc: Services, engine: Engine, clock: FrozenClock, redis_client: redis.Redis
) -> None:
    ticket_id = add_ticket(engine, clock)
    callback = followup(svc, ticket_id)
    assert callback is not None and callback.id is not None
    with Session(engine) as session:
        customer = session.get(Customer, callback.customer_id)
        assert customer is not None
        customer.consent_calls = False
        session.add(customer)
        session.commit()
    work(redis_client)
    assert calls_placed(engine) == []
    assert callback_of(engine, callback.id).outcome == "no_consent"


def test_a_ticket_has_one_pending_follow_up(
    svc: Services, engine: Engine, clock: FrozenClock
) -> None:
    ticket_id = add_ticket(engine, clock, ticket_type=TicketType.complaint)
    first, second = followup(svc, ticket_id), followup(svc, ticket_id)
    assert first is not None and second is not None and first.id == second.id


# --- placing once ----------------------------------------------------------------------------


def test_a_due_follow_up_is_placed_with_machine_detection_and_signed_routes(
    svc: Services, engine: Engine, clock: FrozenClock, redis_client: redis.Redis
) -> None:
    ticket_id = add_ticket(engine, clock)
    callback = followup(svc, ticket_id)
    assert callback is not None
    work(redis_client)
    (call,) = calls_placed(engine)
    assert call["to"] == CUSTOMER_PHONE and call["machine_detection"] == "Enable"
    assert call["url"] == (
        f"https://hotline.example.com/twilio/voice/callback/answer?callback={callback.id}&attempt=1"
    )
    assert str(call["status_callback"]).endswith(
        f"/callback/status?callback={callback.id}&attempt=1"
    )


def test_a_duplicated_job_calls_once(
    svc: Services, engine: Engine, clock: FrozenClock, redis_client: redis.Redis
) -> None:
    ticket_id = add_ticket(engine, clock)
    callback = followup(svc, ticket_id)
    assert callback is not None and callback.id is not None
    assert callback_jobs.place_callback(callback.id, 0) is not None
    assert callback_jobs.place_callback(callback.id, 0) is None
    work(redis_client)  # and the sweeper's job for the same attempt
    assert len(calls_placed(engine)) == 1
    assert callback_of(engine, callback.id).attempts == 1


def test_a_worker_killed_between_claim_and_call_is_recovered_once(
    svc: Services, engine: Engine, clock: FrozenClock, redis_client: redis.Redis
) -> None:
    ticket_id = add_ticket(engine, clock)
    callback = followup(svc, ticket_id)
    assert callback is not None and callback.id is not None
    with Session(engine) as session:  # the claim committed, then the worker died
        assert callbacks.claim(session=session, callback_id=callback.id, attempts=0,
                               now=clock.now(), calendar=svc.calendar)  # fmt: skip
        session.commit()
    work(redis_client)
    assert calls_placed(engine) == []  # the claim stands for a while: its call may exist
    clock.advance(svc.settings.callback_claim_timeout_seconds + 1)
    work(redis_client)
    work(redis_client)
    assert len(calls_placed(engine)) == 1
    callback = callback_of(engine, callback.id)
    assert (callback.status, callback.attempts) == ("dialing", 1)


def test_a_claim_whose_call_sent_a_webhook_is_never_placed_again(
    svc: Services, engine: Engine, clock: FrozenClock, redis_client: redis.Redis
) -> None:
    ticket_id = add_ticket(engine, clock)
    callback = followup(svc, ticket_id)
    assert callback is not None and callback.id is not None
    with Session(engine) as session:
        callbacks.claim(session=session, callback_id=callback.id, attempts=0, now=clock.now(),
                        calendar=svc.calendar)  # fmt: skip
        # The worker died after Twilio took the call: its `initiated` callback came in.
        callback_results.note_call_seen(
            session=session, callback_id=callback.id, attempt=1, call_sid="CA" + "1" * 32
        )
        session.commit()
    clock.advance(svc.settings.callback_claim_timeout_seconds + 1)
    work(redis_client)
    assert calls_placed(engine) == []
    assert callback_of(engine, callback.id).status == "dialing"


def test_a_call_whose_end_never_came_is_counted_and_retried(
    svc: Services, engine: Engine, clock: FrozenClock, redis_client: redis.Redis
) -> None:
    ticket_id = add_ticket(engine, clock)
    callback = followup(svc, ticket_id)
    assert callback is not None and callback.id is not None
    work(redis_client)
    assert callback_of(engine, callback.id).status == "dialing"
    clock.advance(svc.settings.max_call_seconds + 1)
    callback_jobs.sweep_callbacks()
    lost = callback_of(engine, callback.id)
    assert (lost.status, lost.last_result, lost.attempts) == ("scheduled", "unknown", 1)


def test_reopening_cancels_the_pending_callback(
    svc: Services, engine: Engine, clock: FrozenClock, redis_client: redis.Redis
) -> None:
    ticket_id = add_ticket(engine, clock)
    callback = followup(svc, ticket_id, CallbackPolicy(delay_seconds=600))
    assert callback is not None and callback.id is not None
    with Session(engine) as session:
        assert crm.cancel_callbacks(session=session, ticket_id=ticket_id, now=clock.now()) == 1
        session.commit()
    clock.advance(600)
    work(redis_client)
    assert calls_placed(engine) == []
    assert callback_of(engine, callback.id).status == "cancelled"
    assert results(engine, ticket_id)[-1]["status"] == "cancelled"
    again = followup(svc, ticket_id)  # resolved again: a new follow-up
    assert again is not None and again.id != callback.id


def test_an_after_hours_voicemail_is_called_back_when_the_bank_opens(
    svc: Services, engine: Engine, clock: FrozenClock, redis_client: redis.Redis
) -> None:
    clock.set(datetime(2026, 11, 24, 14, 30, tzinfo=UTC))  # 22:30 in Shanghai
    record = CallRecord(
        call_sid="CA" + "2" * 32, from_number=CUSTOMER_PHONE, to_number="+864008895555",
        customer_id=None, language="zh", ivr_path=[], category="other", subject="留言",
        after_hours=True, voicemail_recording_sid="RE" + "2" * 32, started_at=clock.now(),
        ended_at=clock.now(),
    )  # fmt: skip
    with Session(engine) as session:
        crm.log_call(session=session, record=record, calendar=svc.calendar, now=clock.now(),
                     window_days=7)  # fmt: skip
        session.commit()
    work(redis_client)
    clock.set(datetime(2026, 11, 24, 23, 59, tzinfo=UTC))  # 07:59: still closed
    work(redis_client)
    assert calls_placed(engine) == []
    clock.set(datetime(2026, 11, 25, 0, 0, 5, tzinfo=UTC))  # 08:00:05, open
    work(redis_client)
    (call,) = calls_placed(engine)
    assert call["to"] == CUSTOMER_PHONE


def test_a_lost_card_callback_rings_at_night_and_others_wait_for_the_opening(
    svc: Services, engine: Engine, clock: FrozenClock, redis_client: redis.Redis
) -> None:
    clock.set(datetime(2026, 11, 24, 16, 0, tzinfo=UTC))  # midnight in Shanghai
    card = followup(svc, add_ticket(engine, clock, category="cards.lost_stolen"))
    other = add_ticket(engine, clock, phone="+8613900000000", number="T20261124-0002")
    bills = followup(svc, other)
    assert card is not None and bills is not None
    work(redis_client)
    (call,) = calls_placed(engine)
    assert call["url"] == (
        f"https://hotline.example.com/twilio/voice/callback/answer?callback={card.id}&attempt=1"
    )
    assert callback_of(engine, bills.id or 0).status == "scheduled"


class RefusingGateway:
    """Twilio answering calls.create with an error."""

    def __init__(self, status: int, code: int) -> None:
        self.status, self.code = status, code

    def create_call(self, **_: object) -> str:
        raise TwilioRestException(self.status, "/Calls.json", "refused", code=self.code)


@pytest.mark.parametrize(
    ("status", "code", "expected"), [(400, 21211, "failed"), (503, 20500, "scheduled")]
)
def test_twilio_errors_are_retried_only_when_worth_it(
    svc: Services, engine: Engine, clock: FrozenClock, status: int, code: int, expected: str
) -> None:
    ticket_id = add_ticket(engine, clock)
    callback = followup(svc, ticket_id)
    assert callback is not None and callback.id is not None
    svc.gateway = RefusingGateway(status, code)  # type: ignore[assignment]
    assert callback_jobs.place_callback(callback.id, 0) is None
    callback = callback_of(engine, callback.id)
    assert (callback.status, callback.last_result) == (expected, f"error_{code}")


# --- figures ---------------------------------------------------------------------------------


def test_figures_count_due_placed_connected_and_failed(
    svc: Services, engine: Engine, clock: FrozenClock
) -> None:
    day_start = clock.now() - timedelta(hours=2)
    ticket_id = add_ticket(engine, clock)
    with Session(engine) as session:
        for status, placed, answered, finished in (
            ("scheduled", None, None, None),
            ("completed", clock.now(), clock.now(), clock.now()),
            ("exhausted", clock.now(), None, clock.now()),
            ("failed", None, None, clock.now()),
        ):
            session.add(Callback(ticket_id=ticket_id, phone=CUSTOMER_PHONE, reason="followup",
                                 due_at=clock.now(), status=status, placed_at=placed,
                                 answered_at=answered, finished_at=finished,
                                 created_at=clock.now()))  # fmt: skip
        session.commit()
        figures = crm.callback_figures(session=session, now=clock.now(), since=[day_start])
    assert figures.due == 1
    assert (figures.scheduled, figures.placed, figures.connected, figures.failed) == (
        [4], [2], [1], [2],
    )  # fmt: skip
