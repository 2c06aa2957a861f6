"""The survey's send job and sweeper on real Redis and RQ: on time, once, and recoverable."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import redis
from sqlmodel import Session
from twilio.base.exceptions import TwilioRestException

from crm.models import Customer
from crm.survey_jobs import BACKOFF_SECONDS, MAX_ATTEMPTS, enqueue_survey, send_survey, sweep
from crm.survey_models import Survey, SurveyState
from crm.survey_service import Outgoing, cancel_surveys, claim, schedule_survey
from hotline.clock import FrozenClock
from hotline.context import Services
from hotline.twilio_gateway import OutboxGateway
from tests.crm.surveys import resolved_ticket, run_due_jobs, scheduled_times, texts_sent

DELAY = timedelta(seconds=600)


def scheduled(session: Session, services: Services, **ticket: Any) -> Survey:
    """A resolved ticket's survey, committed and enqueued as the lifecycle will do it."""
    now = services.clock.now()
    row = resolved_ticket(session, now=now, **ticket)
    assert row.id is not None
    survey = schedule_survey(session=session, ticket_id=row.id, now=now, settings=services.settings)
    assert survey is not None
    session.commit()
    enqueue_survey(services.redis, survey)
    return survey


def reloaded(session: Session, survey: Survey) -> Survey:
    session.expire_all()
    row = session.get(Survey, survey.id)
    assert row is not None
    return row


class FailingGateway(OutboxGateway):
    """The outbox, but the first `failures` sends raise `error` (after keeping the text when
    `accepted`: Twilio took it and the answer was lost)."""

    def __init__(self, services: Services, error: Exception, failures: int, accepted: bool) -> None:
        super().__init__(services.engine, services.clock.now)
        self.error, self.failures, self.accepted = error, failures, accepted

    def send_sms(self, *, to: str, from_: str, body: str, status_callback: str | None) -> str:
        if self.failures > 0:
            self.failures -= 1
            if self.accepted:
                super().send_sms(to=to, from_=from_, body=body, status_callback=status_callback)
            raise self.error
        return super().send_sms(to=to, from_=from_, body=body, status_callback=status_callback)


def twilio_error(status: int, code: int) -> TwilioRestException:
    return TwilioRestException(status, "https://api.twilio.com/Messages.json", "error", code)


def test_the_survey_is_texted_at_its_time_and_not_before(
    session: Session, services: Services, clock: FrozenClock, redis_client: redis.Redis
) -> None:
    survey = scheduled(session, services)
    run_due_jobs(redis_client, clock.now())
    assert texts_sent(session) == []
    clock.advance(DELAY.total_seconds())
    run_due_jobs(redis_client, clock.now())
    (text,) = texts_sent(session)
    row = reloaded(session, survey)
    assert row.state == SurveyState.sent and row.message_sid and row.phone == text["to"]
    assert text["to"] == "+8613812345678"
    assert text["status_callback"] == "https://hotline.example.com/twilio/sms/status"


def test_the_text_names_the_case_and_how_to_opt_out_in_mandarin(
    session: Session, services: Services, clock: FrozenClock, redis_client: redis.Redis
) -> None:
    scheduled(session, services)
    clock.advance(DELAY.total_seconds())
    run_due_jobs(redis_client, clock.now())
    body = str(texts_sent(session)[0]["body"])
    assert "T20261124-0001" in body and "1-5" in body and "回复TD退订" in body


def test_an_english_speaking_customer_gets_english(
    session: Session, services: Services, clock: FrozenClock, redis_client: redis.Redis
) -> None:
    scheduled(session, services, language="en")
    clock.advance(DELAY.total_seconds())
    run_due_jobs(redis_client, clock.now())
    body = str(texts_sent(session)[0]["body"])
    assert "T20261124-0001" in body and "Reply STOP to opt out" in body


def test_a_duplicated_job_texts_once(
    session: Session, services: Services, clock: FrozenClock, redis_client: redis.Redis
) -> None:
    survey = scheduled(session, services)
    enqueue_survey(redis_client, survey)
    clock.advance(DELAY.total_seconds())
    run_due_jobs(redis_client, clock.now())
    assert send_survey(survey.id).startswith("nothing to do")
    assert len(texts_sent(session)) == 1


def test_a_job_woken_in_quiet_hours_waits_for_the_morning(
    session: Session, services: Services, clock: FrozenClock, redis_client: redis.Redis
) -> None:
    survey = scheduled(session, services)
    clock.set(datetime(2026, 11, 24, 14, 0, tzinfo=UTC))  # 22:00 in Shanghai: the job was late
    run_due_jobs(redis_client, clock.now())
    morning = datetime(2026, 11, 25, 0, 0, tzinfo=UTC)
    assert texts_sent(session) == []
    assert reloaded(session, survey).due_at == morning
    assert scheduled_times(redis_client) == [morning]
    clock.set(morning)
    run_due_jobs(redis_client, clock.now())
    assert len(texts_sent(session)) == 1


def test_a_customer_who_opted_out_meanwhile_is_not_texted(
    session: Session, services: Services, clock: FrozenClock, redis_client: redis.Redis
) -> None:
    survey = scheduled(session, services)
    customer = session.get(Customer, survey.customer_id)
    assert customer is not None
    customer.consent_sms = False
    session.add(customer)
    session.commit()
    clock.advance(DELAY.total_seconds())
    run_due_jobs(redis_client, clock.now())
    assert texts_sent(session) == []
    assert reloaded(session, survey).skip_reason == "opted_out"


def test_a_reopened_ticket_is_not_surveyed(
    session: Session, services: Services, clock: FrozenClock, redis_client: redis.Redis
) -> None:
    survey = scheduled(session, services)
    cancel_surveys(session=session, ticket_id=survey.ticket_id, now=clock.now())
    session.commit()
    clock.advance(DELAY.total_seconds())
    run_due_jobs(redis_client, clock.now())
    assert texts_sent(session) == []
    assert reloaded(session, survey).state == SurveyState.cancelled


def test_a_retryable_twilio_error_is_retried_after_a_back_off(
    session: Session, services: Services, clock: FrozenClock, redis_client: redis.Redis
) -> None:
    services.gateway = FailingGateway(services, twilio_error(503, 20500), 1, accepted=False)
    survey = scheduled(session, services)
    clock.advance(DELAY.total_seconds())
    run_due_jobs(redis_client, clock.now())
    row = reloaded(session, survey)
    assert (row.state, row.attempts) == (SurveyState.scheduled, 1)
    assert row.due_at == clock.now() + timedelta(seconds=BACKOFF_SECONDS[0])
    clock.advance(BACKOFF_SECONDS[0])
    run_due_jobs(redis_client, clock.now())
    assert reloaded(session, survey).state == SurveyState.sent
    assert len(texts_sent(session)) == 1


def test_a_retry_after_a_lost_answer_finds_the_text_instead_of_sending_again(
    session: Session, services: Services, clock: FrozenClock, redis_client: redis.Redis
) -> None:
    services.gateway = FailingGateway(services, TimeoutError("read timeout"), 1, accepted=True)
    survey = scheduled(session, services)
    clock.advance(DELAY.total_seconds())
    run_due_jobs(redis_client, clock.now())
    clock.advance(BACKOFF_SECONDS[0])
    run_due_jobs(redis_client, clock.now())
    row = reloaded(session, survey)
    assert row.state == SurveyState.sent and row.attempts == 2
    assert len(texts_sent(session)) == 1


@pytest.mark.parametrize("code", [21610, 21211])
def test_opted_out_and_invalid_numbers_are_not_retried(
    code: int,
    session: Session,
    services: Services,
    clock: FrozenClock,
    redis_client: redis.Redis,
) -> None:
    services.gateway = FailingGateway(services, twilio_error(400, code), 1, accepted=False)
    survey = scheduled(session, services)
    clock.advance(DELAY.total_seconds())
    run_due_jobs(redis_client, clock.now())
    row = reloaded(session, survey)
    assert (row.state, row.error_code, row.attempts) == (SurveyState.failed, code, 1)
    assert scheduled_times(redis_client) == []
    customer = session.get(Customer, survey.customer_id)
    assert customer is not None and customer.consent_sms is (code != 21610)


def test_retries_run_out(
    session: Session, services: Services, clock: FrozenClock, redis_client: redis.Redis
) -> None:
    services.gateway = FailingGateway(services, twilio_error(500, 20500), 99, accepted=False)
    survey = scheduled(session, services)
    clock.advance(DELAY.total_seconds())
    for wait in (0, *BACKOFF_SECONDS):
        clock.advance(wait)
        run_due_jobs(redis_client, clock.now())
    row = reloaded(session, survey)
    assert (row.state, row.attempts) == (SurveyState.failed, MAX_ATTEMPTS)


def die_after_claiming(session: Session, survey: Survey, clock: FrozenClock) -> None:
    """A worker claimed the survey and was killed: the row stays in `sending`."""
    row = reloaded(session, survey)
    outgoing = Outgoing(to="+8613812345678", body="您的案件T20261124-0001已处理完毕")
    assert claim(session=session, survey=row, outgoing=outgoing, now=clock.now())
    session.commit()


def test_a_worker_killed_before_sending_is_recovered_with_one_text(
    session: Session, services: Services, clock: FrozenClock, redis_client: redis.Redis
) -> None:
    survey = scheduled(session, services)
    clock.advance(DELAY.total_seconds())
    die_after_claiming(session, survey, clock)
    run_due_jobs(redis_client, clock.now())  # the original job finds it claimed
    assert texts_sent(session) == []
    clock.advance(services.settings.survey_sending_timeout_seconds + 1)
    assert sweep(services)["resent"] == 1
    run_due_jobs(redis_client, clock.now())
    assert reloaded(session, survey).state == SurveyState.sent
    assert len(texts_sent(session)) == 1


def test_a_worker_killed_after_twilio_took_the_text_does_not_send_it_again(
    session: Session, services: Services, clock: FrozenClock, redis_client: redis.Redis
) -> None:
    survey = scheduled(session, services)
    clock.advance(DELAY.total_seconds())
    die_after_claiming(session, survey, clock)
    row = reloaded(session, survey)
    assert row.phone is not None and row.body is not None
    sid = services.gateway.send_sms(
        to=row.phone, from_=services.settings.twilio_phone_number, body=row.body,
        status_callback=None,
    )  # fmt: skip
    clock.advance(services.settings.survey_sending_timeout_seconds + 1)
    assert sweep(services)["recovered"] == 1
    run_due_jobs(redis_client, clock.now())
    row = reloaded(session, survey)
    assert (row.state, row.message_sid) == (SurveyState.sent, sid)
    assert len(texts_sent(session)) == 1


def test_the_sweeper_enqueues_a_survey_whose_job_was_lost(
    session: Session, services: Services, clock: FrozenClock, redis_client: redis.Redis
) -> None:
    survey = scheduled(session, services)
    redis_client.flushdb()
    clock.advance(DELAY.total_seconds() + 180)
    assert sweep(services)["requeued"] == 1
    run_due_jobs(redis_client, clock.now())
    assert reloaded(session, survey).state == SurveyState.sent


def test_an_unanswered_survey_expires_after_the_reply_window(
    session: Session, services: Services, clock: FrozenClock, redis_client: redis.Redis
) -> None:
    survey = scheduled(session, services)
    clock.advance(DELAY.total_seconds())
    run_due_jobs(redis_client, clock.now())
    clock.advance(71 * 3600)
    assert sweep(services)["expired"] == 0
    clock.advance(2 * 3600)
    assert sweep(services)["expired"] == 1
    assert reloaded(session, survey).state == SurveyState.expired
