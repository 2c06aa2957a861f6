"""Survey replies at POST /twilio/sms/incoming: scores, unclear answers, opt-out/in, late ones."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as fuzzing
from hypothesis import strategies as st
from sqlmodel import Session, col, select

from crm.case_models import Escalation, EscalationTrigger
from crm.models import Callback, Customer, EventKind, Ticket, TicketEvent, TicketStatus
from crm.survey_models import Survey, SurveyState
from hotline.clock import FrozenClock
from hotline.settings import Settings
from tests.conftest import TEST_ACCOUNT, Twilio
from tests.crm.surveys import MOBILE, sent_survey

PATH = "/twilio/sms/incoming"
STRANGER = "+8613999999999"


def text_in(
    twilio: Twilio, body: str, *, sid: str = "SMreply1", sender: str = MOBILE, **extra: str
) -> str:
    params = {
        "MessageSid": sid,
        "AccountSid": TEST_ACCOUNT,
        "From": sender,
        "To": "+864008895555",
        "Body": body,
        "NumMedia": "0",
        "NumSegments": "1",
        **extra,
    }
    response = twilio.post(PATH, params)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/xml")
    return response.text


def survey_now(session: Session, survey: Survey) -> Survey:
    session.expire_all()
    row = session.get(Survey, survey.id)
    assert row is not None
    return row


@pytest.fixture
def survey(session: Session, clock: FrozenClock, settings: Settings) -> Survey:
    return sent_survey(session, now=clock.now(), settings=settings)


@pytest.mark.parametrize(
    ("body", "score"),
    [("5", 5), ("５", 5), ("五", 5), ("5分", 5), ("非常满意", 5), ("very satisfied", 5),
     ("satisfied", 4), ("3", 3)],
)  # fmt: skip
def test_a_score_in_any_form_is_recorded_with_thanks(
    twilio: Twilio, session: Session, survey: Survey, body: str, score: int
) -> None:
    answer = text_in(twilio, body)
    assert "<Message>感谢您的评价！" in answer
    row = survey_now(session, survey)
    assert (row.state, row.score) == (SurveyState.answered, score)


def test_the_score_lands_on_the_tickets_timeline(
    twilio: Twilio, session: Session, survey: Survey
) -> None:
    text_in(twilio, "4")
    events = session.exec(
        select(TicketEvent).where(
            TicketEvent.ticket_id == survey.ticket_id, TicketEvent.kind == EventKind.survey
        )
    ).all()
    assert [event.data["score"] for event in events if event.data["event"] == "answered"] == [4]


def test_an_english_customer_is_thanked_in_english(
    twilio: Twilio, session: Session, clock: FrozenClock, settings: Settings
) -> None:
    sent_survey(session, now=clock.now(), settings=settings, language="en")
    assert "<Message>Thank you for your feedback!</Message>" in text_in(twilio, "5")


def test_an_unclear_reply_is_asked_once_more_then_closed_politely(
    twilio: Twilio, session: Session, survey: Survey
) -> None:
    assert "请回复一个1到5的数字" in text_in(twilio, "还可以吧", sid="SM1")
    assert survey_now(session, survey).state == SurveyState.sent
    assert "仍未能识别您的评分" in text_in(twilio, "嗯", sid="SM2")
    row = survey_now(session, survey)
    assert (row.state, row.score) == (SurveyState.expired, None)


def test_an_unclear_reply_then_a_score_counts(
    twilio: Twilio, session: Session, survey: Survey
) -> None:
    text_in(twilio, "hmm", sid="SM1")
    text_in(twilio, "4", sid="SM2")
    assert survey_now(session, survey).score == 4


def test_a_reply_after_the_window_gets_a_polite_answer_and_no_score(
    twilio: Twilio, session: Session, survey: Survey, clock: FrozenClock
) -> None:
    clock.advance(73 * 3600)
    assert "本号码不接收咨询" in text_in(twilio, "5")
    row = survey_now(session, survey)
    assert (row.state, row.score) == (SurveyState.expired, None)


def test_a_stranger_gets_a_polite_answer_and_nothing_changes(
    twilio: Twilio, session: Session, survey: Survey
) -> None:
    assert "This number does not take enquiries" in text_in(twilio, "5", sender=STRANGER)
    assert survey_now(session, survey).state == SurveyState.sent


def test_a_second_score_is_not_counted(twilio: Twilio, session: Session, survey: Survey) -> None:
    text_in(twilio, "5", sid="SM1")
    assert "您已完成本次评价" in text_in(twilio, "1", sid="SM2")
    assert survey_now(session, survey).score == 5


def test_a_repeated_webhook_answers_the_same_and_counts_once(
    twilio: Twilio, session: Session, survey: Survey, admin_headers: dict[str, str]
) -> None:
    first = text_in(twilio, "2", sid="SMsame")
    again = text_in(twilio, "2", sid="SMsame")
    assert first == again
    csat = twilio.client.get("/api/supervisor/stats", headers=admin_headers).json()
    assert csat["overall"]["today"]["csat"]["responses"] == 1
    callbacks = session.exec(select(Callback).where(Callback.ticket_id == survey.ticket_id)).all()
    assert len(callbacks) == 1


@pytest.mark.parametrize(
    ("body", "extra"),
    [
        ("TD", {}),
        ("退订", {}),
        ("STOP", {"OptOutType": "STOP"}),
        ("whatever", {"OptOutType": "STOP"}),
    ],
)
def test_opt_out_words_and_twilios_opt_out_type_opt_the_customer_out(
    twilio: Twilio, session: Session, survey: Survey, body: str, extra: dict[str, str]
) -> None:
    answer = text_in(twilio, body, **extra)
    assert "您已退订服务短信" in answer
    session.expire_all()
    customer = session.get(Customer, survey.customer_id)
    assert customer is not None and customer.consent_sms is False


@pytest.mark.parametrize("body", ["START", "订阅"])
def test_start_opts_back_in(twilio: Twilio, session: Session, survey: Survey, body: str) -> None:
    text_in(twilio, "TD", sid="SM1")
    assert "您已重新订阅" in text_in(twilio, body, sid="SM2")
    session.expire_all()
    customer = session.get(Customer, survey.customer_id)
    assert customer is not None and customer.consent_sms is True


def test_a_low_score_reopens_escalates_and_owes_a_callback(
    twilio: Twilio, session: Session, survey: Survey, clock: FrozenClock
) -> None:
    answer = text_in(twilio, "1")
    assert "资深客服将尽快致电您" in answer
    session.expire_all()
    ticket = session.get(Ticket, survey.ticket_id)
    # Reopened, then escalated to management with its background pack.
    assert ticket is not None and ticket.status == TicketStatus.escalated
    (escalation,) = session.exec(select(Escalation)).all()
    assert escalation.trigger == EscalationTrigger.survey and escalation.ticket_id == ticket.id
    events = session.exec(
        select(TicketEvent)
        .where(TicketEvent.ticket_id == survey.ticket_id)
        .order_by(col(TicketEvent.id))
    ).all()
    kinds = [(event.kind, event.data.get("event") or event.data.get("new")) for event in events]
    assert (EventKind.status_change, "open") in kinds
    assert (EventKind.survey, "supervisor_alert") in kinds
    (callback,) = session.exec(select(Callback).where(Callback.ticket_id == survey.ticket_id)).all()
    assert (callback.reason, callback.status, callback.phone) == ("low_score", "scheduled", MOBILE)
    assert callback.due_at == clock.now()


def test_a_good_score_leaves_the_ticket_resolved(
    twilio: Twilio, session: Session, survey: Survey
) -> None:
    text_in(twilio, "4")
    session.expire_all()
    ticket = session.get(Ticket, survey.ticket_id)
    assert ticket is not None and ticket.status == TicketStatus.resolved
    assert session.exec(select(Callback)).all() == []


def test_scores_feed_the_live_csat_figures(
    twilio: Twilio,
    session: Session,
    clock: FrozenClock,
    settings: Settings,
    admin_headers: dict[str, str],
) -> None:
    sent_survey(session, now=clock.now(), settings=settings)
    sent_survey(session, now=clock.now(), settings=settings, phone="+8613700137000")
    text_in(twilio, "5", sid="SM1")
    text_in(twilio, "2", sid="SM2", sender="+8613700137000")
    overall = twilio.client.get("/api/supervisor/stats", headers=admin_headers).json()["overall"]
    assert overall["today"]["csat"] == {"responses": 2, "mean_score": 3.5, "csat": 0.5}
    assert overall["last_15_minutes"]["csat"]["responses"] == 2
    clock.advance(20 * 60)
    later = twilio.client.get("/api/supervisor/stats", headers=admin_headers).json()["overall"]
    assert later["last_15_minutes"]["csat"] == {"responses": 0, "mean_score": None, "csat": None}
    assert later["today"]["csat"]["responses"] == 2


def test_an_unsigned_reply_is_refused(twilio: Twilio, survey: Survey, session: Session) -> None:
    params = {"MessageSid": "SMx", "From": MOBILE, "To": "+864008895555", "Body": "5"}
    assert twilio.post(PATH, params, signature="bad").status_code == 403
    assert survey_now(session, survey).state == SurveyState.sent


def test_a_reply_the_app_cannot_handle_still_gets_twiml(
    twilio: Twilio, survey: Survey, clock: FrozenClock
) -> None:
    response = twilio.post(PATH, {"From": MOBILE, "Body": "5"})
    assert response.status_code == 200 and "<Response" in response.text


def test_a_text_long_after_an_answered_survey_is_not_taken_for_a_second_score(
    twilio: Twilio, session: Session, survey: Survey, clock: FrozenClock
) -> None:
    text_in(twilio, "5", sid="SM1")
    clock.advance(30 * 24 * 3600)
    assert "本号码不接收咨询" in text_in(twilio, "我的卡丢了", sid="SM2")
    assert survey_now(session, survey).score == 5


@fuzzing(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    body=st.text(max_size=300).map(lambda value: value.replace("\x00", "")),
    opt_out_type=st.sampled_from(["", "STOP", "START", "HELP", "nonsense"]),
    sid=st.text(alphabet="SMabc0123", min_size=1, max_size=40),
)
def test_any_signed_reply_gets_valid_twiml(
    twilio: Twilio, survey: Survey, body: str, opt_out_type: str, sid: str
) -> None:
    answer = text_in(twilio, body, sid=sid, OptOutType=opt_out_type)
    assert ET.fromstring(answer).tag == "Response"
