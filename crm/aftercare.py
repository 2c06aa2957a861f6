"""What follows a ticket's resolution: an SMS survey and a follow-up call; undone on reopen.

crm/tickets.py calls these from its one transition function, so every path that resolves or
reopens a ticket (the API, a low survey score, a merge) schedules or cancels the same things.
The jobs are enqueued after the transaction commits; if that fails, the sweepers find the rows.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlmodel import Session

from crm import callback_jobs, callbacks, survey_jobs, survey_service
from crm.survey_models import SurveyState
from hotline.db import after_commit
from hotline.jobs import services

log = logging.getLogger(__name__)


def ticket_resolved(*, session: Session, ticket_id: int, now: datetime) -> None:
    """Schedule the survey and the follow-up call of this resolution."""
    svc = services()
    survey = survey_service.schedule_survey(
        session=session, ticket_id=ticket_id, now=now, settings=svc.settings
    )
    if survey is not None and survey.state == SurveyState.scheduled:
        after_commit(session, lambda: survey_jobs.enqueue_survey(svc.redis, survey))
    followup = callbacks.schedule_followup(session=session, ticket_id=ticket_id, now=now)
    if followup is not None and followup.status == callbacks.SCHEDULED:
        session.flush()
        callback_id, attempts, due_at = followup.id, followup.attempts, followup.due_at
        assert callback_id is not None

        def place() -> None:
            callback_jobs.schedule_placement(
                svc.redis, callback_id=callback_id, attempts=attempts, due_at=due_at, now=now
            )

        after_commit(session, place)


def ticket_reopened(*, session: Session, ticket_id: int, now: datetime) -> None:
    """The case is not over: no survey and no follow-up call about it now."""
    surveys = survey_service.cancel_surveys(session=session, ticket_id=ticket_id, now=now)
    calls = callbacks.cancel_callbacks(session=session, ticket_id=ticket_id, now=now)
    if surveys or calls:
        log.info(
            "ticket %s reopened: %d survey(s), %d callback(s) cancelled", ticket_id, surveys, calls
        )
