"""Scheduling surveys on resolution and cancelling them on reopen."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import Session

from crm.models import TicketStatus
from crm.survey_models import SkipReason, Survey, SurveyState
from crm.survey_service import cancel_surveys, schedule_survey
from hotline.settings import Settings
from tests.conftest import OPEN_HOURS
from tests.crm.surveys import resolved_ticket


def schedule(session: Session, ticket_id: int, now: datetime, settings: Settings) -> Survey:
    survey = schedule_survey(session=session, ticket_id=ticket_id, now=now, settings=settings)
    assert survey is not None
    session.commit()
    return survey


def test_a_resolved_ticket_gets_a_survey_after_the_delay(
    session: Session, settings: Settings
) -> None:
    ticket = resolved_ticket(session, now=OPEN_HOURS)
    assert ticket.id is not None
    survey = schedule(session, ticket.id, OPEN_HOURS, settings)
    assert survey.id == f"S{ticket.id}-1"
    assert survey.state == SurveyState.scheduled
    assert survey.due_at == OPEN_HOURS + timedelta(seconds=600)


def test_a_resolution_in_the_evening_is_surveyed_next_morning(
    session: Session, settings: Settings
) -> None:
    evening = datetime(2026, 11, 24, 12, 55, tzinfo=UTC)  # 20:55 in Shanghai; +10 min is quiet
    ticket = resolved_ticket(session, now=evening)
    assert ticket.id is not None
    survey = schedule(session, ticket.id, evening, settings)
    assert survey.due_at == datetime(2026, 11, 25, 0, 0, tzinfo=UTC)  # 08:00 in Shanghai


def test_an_opted_out_customer_is_skipped(session: Session, settings: Settings) -> None:
    ticket = resolved_ticket(session, now=OPEN_HOURS, consent=False)
    assert ticket.id is not None
    survey = schedule(session, ticket.id, OPEN_HOURS, settings)
    assert (survey.state, survey.skip_reason) == (SurveyState.skipped, SkipReason.opted_out)


def test_a_customer_without_a_mobile_is_skipped(session: Session, settings: Settings) -> None:
    ticket = resolved_ticket(session, now=OPEN_HOURS, phone_kind="landline")
    assert ticket.id is not None
    survey = schedule(session, ticket.id, OPEN_HOURS, settings)
    assert (survey.state, survey.skip_reason) == (SurveyState.skipped, SkipReason.no_mobile)


def test_a_customer_surveyed_recently_is_skipped(session: Session, settings: Settings) -> None:
    first = resolved_ticket(session, now=OPEN_HOURS)
    assert first.id is not None and first.customer_id is not None
    earlier = schedule(session, first.id, OPEN_HOURS, settings)
    earlier.state, earlier.sent_at = SurveyState.sent, OPEN_HOURS
    second = resolved_ticket(session, now=OPEN_HOURS, phone="+8613900139000")
    second.customer_id = first.customer_id
    session.add_all([earlier, second])
    session.commit()
    assert second.id is not None
    later = schedule(session, second.id, OPEN_HOURS + timedelta(days=29), settings)
    assert later.skip_reason == SkipReason.recent_survey
    third = resolved_ticket(session, now=OPEN_HOURS, phone="+8613700137000")
    third.customer_id = first.customer_id
    session.add(third)
    session.commit()
    assert third.id is not None
    assert schedule(session, third.id, OPEN_HOURS + timedelta(days=31), settings).state == (
        SurveyState.scheduled
    )


def test_resolving_twice_keeps_one_pending_survey(session: Session, settings: Settings) -> None:
    ticket = resolved_ticket(session, now=OPEN_HOURS)
    assert ticket.id is not None
    first = schedule(session, ticket.id, OPEN_HOURS, settings)
    again = schedule(session, ticket.id, OPEN_HOURS + timedelta(seconds=5), settings)
    assert again.id == first.id


def test_resolved_reopened_resolved_gets_one_survey_at_a_time(
    session: Session, settings: Settings
) -> None:
    ticket = resolved_ticket(session, now=OPEN_HOURS)
    assert ticket.id is not None
    first = schedule(session, ticket.id, OPEN_HOURS, settings)
    assert cancel_surveys(session=session, ticket_id=ticket.id, now=OPEN_HOURS) == 1
    session.commit()
    second = schedule(session, ticket.id, OPEN_HOURS + timedelta(hours=1), settings)
    session.refresh(first)
    assert first.state == SurveyState.cancelled
    assert (second.id, second.state) == (f"S{ticket.id}-2", SurveyState.scheduled)


def test_cancelling_leaves_a_survey_being_sent_alone(session: Session, settings: Settings) -> None:
    ticket = resolved_ticket(session, now=OPEN_HOURS)
    assert ticket.id is not None
    survey = schedule(session, ticket.id, OPEN_HOURS, settings)
    survey.state = SurveyState.sending
    session.add(survey)
    session.commit()
    assert cancel_surveys(session=session, ticket_id=ticket.id, now=OPEN_HOURS) == 0


def test_an_unknown_ticket_gets_no_survey(session: Session, settings: Settings) -> None:
    assert (
        schedule_survey(session=session, ticket_id=999, now=OPEN_HOURS, settings=settings) is None
    )


def test_a_ticket_without_a_customer_is_skipped(session: Session, settings: Settings) -> None:
    ticket = resolved_ticket(session, now=OPEN_HOURS)
    ticket.customer_id = None
    ticket.status = TicketStatus.resolved
    session.add(ticket)
    session.commit()
    assert ticket.id is not None
    assert schedule(session, ticket.id, OPEN_HOURS, settings).skip_reason == SkipReason.no_customer
