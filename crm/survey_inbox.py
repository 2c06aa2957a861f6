"""Texts coming back: survey replies (scores, opt-out/in, the unclear) and delivery reports.

Both are idempotent: a reply is stored under its MessageSid and a repeat answers the same; a
delivery status only moves forward (delivered after failed changes nothing).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from crm import survey_service as surveys
from crm.models import Customer, CustomerPhone, Ticket
from crm.survey_followup import LOW_SCORES, follow_up_low_score
from crm.survey_models import Survey, SurveyReply, SurveyState
from crm.survey_replies import ReplyKind, parse_reply
from crm.survey_texts import text
from hotline.settings import Settings
from hotline.twilio_gateway import UNSUBSCRIBED

# How many unclear replies a survey takes: the first is asked again, the second closes it.
MAX_UNCLEAR = 2
_CJK = re.compile(r"[\u3400-\u9fff]")


@dataclass(frozen=True)
class ReplyOutcome:
    answer: str  # what to text back; empty for nothing
    outcome: str
    # A score counted for the first time (None on a repeat): the CSAT counters take it.
    new_score: int | None = None
    survey_id: str | None = None


def _customer_by_number(session: Session, number: str) -> Customer | None:
    return session.exec(
        select(Customer)
        .join(CustomerPhone, col(CustomerPhone.customer_id) == col(Customer.id))
        .where(CustomerPhone.number == number)
    ).first()


def _latest_survey(session: Session, number: str) -> Survey | None:
    return session.exec(
        select(Survey)
        .where(
            Survey.phone == number,
            col(Survey.state).in_([SurveyState.sent, SurveyState.answered, SurveyState.expired]),
        )
        .order_by(col(Survey.sent_at).desc())
        .limit(1)
    ).first()


def handle_reply(
    *,
    session: Session,
    message_sid: str,
    from_number: str,
    body: str,
    opt_out_type: str | None,
    now: datetime,
    settings: Settings,
) -> ReplyOutcome:
    """Understand one inbound text and decide the answer; once per MessageSid."""
    reply_row = SurveyReply(
        message_sid=message_sid, from_number=from_number, received_at=now, outcome="pending"
    )
    try:
        with session.begin_nested():
            session.add(reply_row)
    except IntegrityError:
        seen = session.get(SurveyReply, message_sid)
        assert seen is not None
        return ReplyOutcome(answer=seen.answer, outcome="repeat")
    outcome = _understand(
        session, from_number=from_number, body=body, opt_out_type=opt_out_type, now=now,
        settings=settings,
    )  # fmt: skip
    reply_row.survey_id, reply_row.outcome = outcome.survey_id, outcome.outcome
    reply_row.score, reply_row.answer = outcome.new_score, outcome.answer[:1000]
    session.add(reply_row)
    return outcome


def _understand(
    session: Session,
    *,
    from_number: str,
    body: str,
    opt_out_type: str | None,
    now: datetime,
    settings: Settings,
) -> ReplyOutcome:
    reply = parse_reply(body, opt_out_type=opt_out_type)
    customer = _customer_by_number(session, from_number)
    survey = _latest_survey(session, from_number)
    language = (
        survey.language
        if survey
        else customer.preferred_language
        if customer
        else ("zh" if _CJK.search(body) else "en")
    )
    if reply.kind in (ReplyKind.opt_out, ReplyKind.opt_in):
        opted_in = reply.kind is ReplyKind.opt_in
        if customer is not None:
            customer.consent_sms = opted_in
            session.add(customer)
        key = "opted_in" if opted_in else "opted_out"
        survey_id = survey.id if survey else None
        return ReplyOutcome(text(language, key), str(reply.kind), survey_id=survey_id)
    if survey is None:
        return ReplyOutcome(text(language, "no_open_survey"), "no_survey")
    window_ends = (survey.sent_at or now) + timedelta(hours=settings.survey_reply_hours)
    if survey.state == SurveyState.sent and now > window_ends:
        surveys.close_sent(session=session, survey_id=survey.id, state=SurveyState.expired, now=now)
        survey.state = SurveyState.expired
    if survey.state == SurveyState.answered and now <= window_ends:
        return ReplyOutcome(
            text(language, "already_answered"), "already_answered", survey_id=survey.id
        )
    if survey.state != SurveyState.sent:
        return ReplyOutcome(text(language, "no_open_survey"), "late", survey_id=survey.id)
    ticket = session.get(Ticket, survey.ticket_id)
    case = ticket.number if ticket else ""
    if reply.kind is ReplyKind.score and reply.score is not None:
        if not surveys.answer(session=session, survey_id=survey.id, score=reply.score, now=now):
            return ReplyOutcome(
                text(language, "already_answered"), "already_answered", survey_id=survey.id
            )
        session.refresh(survey)
        surveys.note_on_timeline(
            session=session,
            survey=survey,
            now=now,
            data={"event": "answered", "score": reply.score},
        )
        if reply.score in LOW_SCORES:
            follow_up_low_score(session=session, survey=survey, now=now)
            answer = text(language, "thanks_low", case=case)
        else:
            answer = text(language, "thanks", case=case)
        return ReplyOutcome(answer, "score", new_score=reply.score, survey_id=survey.id)
    unclear = survey.unclear_replies + 1
    session.execute(
        update(Survey).where(col(Survey.id) == survey.id).values(unclear_replies=unclear)
    )
    if unclear >= MAX_UNCLEAR:
        surveys.close_sent(session=session, survey_id=survey.id, state=SurveyState.expired, now=now)
        return ReplyOutcome(text(language, "close_unclear"), "unclear_closed", survey_id=survey.id)
    return ReplyOutcome(text(language, "ask_again"), "unclear", survey_id=survey.id)


# --- delivery reports ------------------------------------------------------------------------

# Twilio's message statuses in the order they can happen; the last three are final.
_RANK = {
    "accepted": 0,
    "scheduled": 0,
    "queued": 1,
    "sending": 2,
    "sent": 3,
    "delivered": 4,
    "undelivered": 4,
    "failed": 4,
}
DELIVERY_FAILED = ("undelivered", "failed")


def record_delivery(
    *, session: Session, message_sid: str, status: str, error_code: int | None, now: datetime
) -> bool:
    """Note a message status on its survey; True if it changed anything. Out of order and
    repeated reports are harmless: a status never moves back, a final one never changes."""
    rank = _RANK.get(status)
    if rank is None:
        return False
    survey = session.exec(select(Survey).where(Survey.message_sid == message_sid)).first()
    if survey is None:
        return False
    current = _RANK.get(survey.delivery_status or "accepted", 0)
    if rank <= current:
        return False
    values: dict[str, object] = {"delivery_status": status}
    if status in DELIVERY_FAILED:
        values["error_code"] = error_code
    # Compare-and-set on the status read: a concurrent report for the same message loses.
    same_status = (
        col(Survey.delivery_status).is_(None)
        if survey.delivery_status is None
        else col(Survey.delivery_status) == survey.delivery_status
    )
    changed = session.execute(
        update(Survey).where(col(Survey.id) == survey.id, same_status).values(**values)
    )
    if int(changed.rowcount) != 1:  # type: ignore[attr-defined]
        return False
    if status in DELIVERY_FAILED:
        surveys.close_sent(session=session, survey_id=survey.id, state=SurveyState.failed, now=now)
        if error_code == UNSUBSCRIBED and survey.customer_id is not None:
            surveys.opt_out(session=session, customer_id=survey.customer_id)
    if rank == 4:
        session.refresh(survey)
        surveys.note_on_timeline(
            session=session, survey=survey, now=now,
            data={"event": status, "error_code": error_code},
        )  # fmt: skip
    return True
