"""Message status callbacks at POST /twilio/sms/status: recorded once, never going back."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from crm.models import Customer, EventKind, TicketEvent
from crm.survey_models import Survey, SurveyState
from hotline.clock import FrozenClock
from hotline.settings import Settings
from tests.conftest import TEST_ACCOUNT, Twilio
from tests.crm.surveys import MOBILE, sent_survey

PATH = "/twilio/sms/status"


def report(twilio: Twilio, survey: Survey, status: str, error_code: str | None = None) -> None:
    assert survey.message_sid is not None
    params = {
        "MessageSid": survey.message_sid,
        "AccountSid": TEST_ACCOUNT,
        "From": "+864008895555",
        "To": MOBILE,
        "MessageStatus": status,
    }
    if error_code is not None:
        params["ErrorCode"] = error_code
    response = twilio.post(PATH, params)
    assert response.status_code == 200


def survey_now(session: Session, survey: Survey) -> Survey:
    session.expire_all()
    row = session.get(Survey, survey.id)
    assert row is not None
    return row


@pytest.fixture
def survey(session: Session, clock: FrozenClock, settings: Settings) -> Survey:
    return sent_survey(session, now=clock.now(), settings=settings)


def test_delivery_is_recorded(twilio: Twilio, session: Session, survey: Survey) -> None:
    for status in ("queued", "sent", "delivered"):
        report(twilio, survey, status)
    row = survey_now(session, survey)
    assert (row.delivery_status, row.state) == ("delivered", SurveyState.sent)


def test_a_failure_is_recorded_with_twilios_error_code(
    twilio: Twilio, session: Session, survey: Survey
) -> None:
    report(twilio, survey, "undelivered", "30005")
    row = survey_now(session, survey)
    assert (row.delivery_status, row.error_code, row.state) == (
        "undelivered",
        30005,
        SurveyState.failed,
    )
    events = session.exec(select(TicketEvent).where(TicketEvent.kind == EventKind.survey)).all()
    assert [event.data["event"] for event in events] == ["undelivered"]


def test_reports_out_of_order_never_go_back(
    twilio: Twilio, session: Session, survey: Survey
) -> None:
    report(twilio, survey, "failed", "30003")
    report(twilio, survey, "delivered")
    report(twilio, survey, "sent")
    row = survey_now(session, survey)
    assert (row.delivery_status, row.error_code) == ("failed", 30003)


def test_a_repeated_report_changes_nothing(
    twilio: Twilio, session: Session, survey: Survey
) -> None:
    report(twilio, survey, "delivered")
    report(twilio, survey, "delivered")
    events = session.exec(select(TicketEvent).where(TicketEvent.kind == EventKind.survey)).all()
    assert len(events) == 1


def test_an_unsubscribed_recipient_is_marked_opted_out(
    twilio: Twilio, session: Session, survey: Survey
) -> None:
    report(twilio, survey, "failed", "21610")
    session.expire_all()
    customer = session.get(Customer, survey.customer_id)
    assert customer is not None and customer.consent_sms is False


def test_a_report_for_an_unknown_message_is_answered(twilio: Twilio, survey: Survey) -> None:
    params = {"MessageSid": "SMunknown", "MessageStatus": "delivered"}
    assert twilio.post(PATH, params).status_code == 200


def test_an_unsigned_report_is_refused(twilio: Twilio, session: Session, survey: Survey) -> None:
    params = {"MessageSid": survey.message_sid or "", "MessageStatus": "delivered"}
    assert twilio.post(PATH, params, signature="forged").status_code == 403
    assert survey_now(session, survey).delivery_status is None
