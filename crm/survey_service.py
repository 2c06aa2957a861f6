"""SMS satisfaction surveys: scheduling on resolution, cancelling on reopen, the send's states.

The ticket lifecycle calls `schedule_survey` when a ticket is resolved (then, after the
commit, `crm.survey_jobs.enqueue_survey`) and `cancel_surveys` when it is reopened. Every
state change is a compare-and-set in SQL, so a duplicated, retried or recovered job can only
text once. Other domains use surveys through this module.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from crm import survey_stats
from crm.models import Customer, CustomerPhone, EventKind, Ticket, TicketEvent, TicketStatus
from crm.survey_models import PENDING_STATES, SkipReason, Survey, SurveyState
from crm.survey_texts import text
from hotline.business_hours import parse_quiet_hours
from hotline.settings import Settings, get_settings

# A ticket in one of these states may be surveyed; reopened in between, the survey is moot.
SURVEYABLE = (TicketStatus.resolved, TicketStatus.closed)
CsatCounts = survey_stats.CsatCounts
read_csat = survey_stats.read_counts


def survey_id_for(ticket_id: int, round_: int) -> str:
    return f"S{ticket_id}-{round_}"


def send_time(*, now: datetime, settings: Settings) -> datetime:
    """Resolution plus the delay, moved out of quiet hours to their end."""
    due = now + timedelta(seconds=settings.survey_delay_seconds)
    return parse_quiet_hours(settings.quiet_hours).next_allowed(due, settings.zone)


def pending_survey(*, session: Session, ticket_id: int) -> Survey | None:
    return session.exec(
        select(Survey).where(
            Survey.ticket_id == ticket_id,
            col(Survey.state).in_([str(state) for state in PENDING_STATES]),
        )
    ).first()


def schedule_survey(
    *, session: Session, ticket_id: int, now: datetime, settings: Settings | None = None
) -> Survey | None:
    """The survey for this resolution of the ticket: scheduled, or skipped with a reason.

    A ticket with a survey still pending keeps that one (no two at once). None for an unknown
    ticket. Enqueue its job after the commit (`crm.survey_jobs.enqueue_survey`).
    """
    settings = settings or get_settings()
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        return None
    pending = pending_survey(session=session, ticket_id=ticket_id)
    if pending is not None:
        return pending
    last_round = session.exec(
        select(func.max(Survey.round)).where(Survey.ticket_id == ticket_id)
    ).one()
    round_ = int(last_round or 0) + 1
    customer = session.get(Customer, ticket.customer_id) if ticket.customer_id else None
    survey = Survey(
        id=survey_id_for(ticket_id, round_),
        ticket_id=ticket_id,
        round=round_,
        customer_id=ticket.customer_id,
        language=customer.preferred_language if customer else "zh",
        created_at=now,
        due_at=send_time(now=now, settings=settings),
    )
    reason = skip_reason(session=session, survey=survey, now=now, settings=settings)
    if reason is not None:
        survey.state, survey.skip_reason, survey.closed_at = SurveyState.skipped, reason, now
    try:
        with session.begin_nested():
            session.add(survey)
    except IntegrityError:
        # Another process scheduled this round at the same moment: theirs stands.
        return session.get(Survey, survey_id_for(ticket_id, round_))
    return survey


def cancel_surveys(*, session: Session, ticket_id: int, now: datetime) -> int:
    """Cancel the ticket's surveys not yet claimed for sending; how many were cancelled.

    One already claimed (`sending`) is left alone: it may be on its way to Twilio right now.
    """
    result = session.execute(
        update(Survey)
        .where(col(Survey.ticket_id) == ticket_id, col(Survey.state) == SurveyState.scheduled)
        .values(state=SurveyState.cancelled, closed_at=now)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


# --- who may be texted -----------------------------------------------------------------------


def mobile_of(*, session: Session, customer_id: int) -> str | None:
    return session.exec(
        select(CustomerPhone.number)
        .where(CustomerPhone.customer_id == customer_id, CustomerPhone.kind == "mobile")
        .order_by(col(CustomerPhone.id))
    ).first()


def skip_reason(
    *, session: Session, survey: Survey, now: datetime, settings: Settings
) -> SkipReason | None:
    """Why this customer must not get this survey now, if a reason exists."""
    customer = session.get(Customer, survey.customer_id) if survey.customer_id else None
    if customer is None or customer.id is None:
        return SkipReason.no_customer
    if not customer.consent_sms:
        return SkipReason.opted_out
    if mobile_of(session=session, customer_id=customer.id) is None:
        return SkipReason.no_mobile
    since = now - timedelta(days=settings.survey_min_days)
    recent = session.exec(
        select(Survey.id).where(
            Survey.customer_id == customer.id,
            Survey.id != survey.id,
            col(Survey.sent_at) >= since,
        )
    ).first()
    return SkipReason.recent_survey if recent is not None else None


@dataclass(frozen=True)
class Outgoing:
    """What a claimed survey sends: to whom, and the text."""

    to: str
    body: str


# --- the send's states: each a compare-and-set ------------------------------------------------


def _move(session: Session, survey_id: str, from_: Sequence[SurveyState], **values: object) -> bool:
    result = session.execute(
        update(Survey)
        .where(col(Survey.id) == survey_id, col(Survey.state).in_([str(s) for s in from_]))
        .values(**values)
    )
    return int(result.rowcount) == 1  # type: ignore[attr-defined]


def claim(*, session: Session, survey: Survey, outgoing: Outgoing, now: datetime) -> bool:
    """scheduled → sending, for one worker only; the number and text are fixed here."""
    return _move(
        session,
        survey.id,
        [SurveyState.scheduled],
        state=SurveyState.sending,
        claimed_at=now,
        first_claimed_at=survey.first_claimed_at or now,
        attempts=survey.attempts + 1,
        phone=outgoing.to,
        body=outgoing.body,
    )


def mark_sent(*, session: Session, survey_id: str, message_sid: str, now: datetime) -> bool:
    return _move(
        session,
        survey_id,
        [SurveyState.sending],
        state=SurveyState.sent,
        message_sid=message_sid,
        sent_at=now,
        delivery_status="accepted",
    )


def mark_failed(
    *, session: Session, survey_id: str, now: datetime, error_code: int | None, error: str
) -> bool:
    return _move(
        session,
        survey_id,
        [SurveyState.sending, SurveyState.scheduled],
        state=SurveyState.failed,
        error_code=error_code,
        last_error=error[:200],
        closed_at=now,
    )


def postpone(*, session: Session, survey_id: str, due_at: datetime) -> bool:
    """A scheduled survey moved to a later time (quiet hours, or its job came early)."""
    return _move(session, survey_id, [SurveyState.scheduled], due_at=due_at)


def release(*, session: Session, survey_id: str, due_at: datetime, error: str) -> bool:
    """sending → scheduled again, for a retry at `due_at`."""
    return _move(
        session,
        survey_id,
        [SurveyState.sending],
        state=SurveyState.scheduled,
        due_at=due_at,
        last_error=error[:200],
    )


def close(
    *, session: Session, survey_id: str, state: SurveyState, now: datetime, reason: str | None
) -> bool:
    """A scheduled survey that will not go: skipped (with the reason) or cancelled."""
    return _move(
        session,
        survey_id,
        [SurveyState.scheduled],
        state=state,
        skip_reason=reason,
        closed_at=now,
    )


def answer(*, session: Session, survey_id: str, score: int, now: datetime) -> bool:
    """sent → answered with the score; False when it was not waiting for one."""
    return _move(
        session,
        survey_id,
        [SurveyState.sent],
        state=SurveyState.answered,
        score=score,
        answered_at=now,
        closed_at=now,
    )


def close_sent(*, session: Session, survey_id: str, state: SurveyState, now: datetime) -> bool:
    """A sent survey that will get no score: expired, or failed on delivery."""
    return _move(session, survey_id, [SurveyState.sent], state=state, closed_at=now)


def opt_out(*, session: Session, customer_id: int) -> None:
    customer = session.get(Customer, customer_id)
    if customer is not None and customer.consent_sms:
        customer.consent_sms = False
        session.add(customer)


def prepare(*, session: Session, survey: Survey) -> Outgoing | None:
    """The number and text for a survey about to be claimed (None: nobody to text)."""
    if survey.customer_id is None:
        return None
    phone = survey.phone or mobile_of(session=session, customer_id=survey.customer_id)
    ticket = session.get(Ticket, survey.ticket_id)
    if phone is None or ticket is None:
        return None
    body = survey.body or text(survey.language, "question", case=ticket.number)
    return Outgoing(to=phone, body=body)


def ticket_surveyable(*, session: Session, survey: Survey) -> bool:
    ticket = session.get(Ticket, survey.ticket_id)
    return ticket is not None and ticket.status in SURVEYABLE


def note_on_timeline(
    *, session: Session, survey: Survey, now: datetime, data: dict[str, object]
) -> None:
    session.add(
        TicketEvent(
            ticket_id=survey.ticket_id,
            at=now,
            kind=EventKind.survey,
            data={"survey_id": survey.id, **data},
        )
    )


def surveys_of(*, session: Session, ticket_id: int) -> list[Survey]:
    return list(
        session.exec(
            select(Survey).where(Survey.ticket_id == ticket_id).order_by(col(Survey.round))
        )
    )
