"""The survey's RQ jobs: send one survey at its time, and a sweeper that recovers and expires.

`send_survey` claims its row (scheduled → sending, a compare-and-set) and commits before it
calls Twilio, so a duplicated or retried job finds nothing to claim. A worker that dies after
the claim leaves the row in `sending`; the sweeper asks Twilio whether the text went (same
number, same text, since the first claim) and marks it sent, or hands it back to be sent.
The job holds a lease on the survey while it sends (hotline/leases.py): a `sending` row whose
lease has lapsed is recovered within seconds, one whose lease Redis cannot show after the
sending timeout.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import redis
from rq import Queue
from sqlalchemy import update
from sqlmodel import Session, col, select

from crm import survey_service as surveys
from crm.survey_models import SkipReason, Survey, SurveyState
from hotline.business_hours import parse_quiet_hours
from hotline.chains import Chain
from hotline.context import Services
from hotline.db import session_scope
from hotline.jobs import job_id, services
from hotline.leases import held, hold, lease_key, lease_seconds
from hotline.phone import mask
from hotline.settings import Settings
from hotline.twilio_gateway import UNSUBSCRIBED, classify_failure

log = logging.getLogger(__name__)

QUEUE = "notify"
STATUS_CALLBACK_PATH = "/twilio/sms/status"
# RQ's scheduler may fire up to ~0.5 s early; earlier than this and the job waits its turn.
EARLY_TOLERANCE = timedelta(seconds=2)
# Back-off between attempts on errors worth retrying (seconds); then the survey fails.
BACKOFF_SECONDS = (30, 120, 600, 1800)
MAX_ATTEMPTS = len(BACKOFF_SECONDS) + 1
SWEEP_EVERY_SECONDS = 60
SWEEPER_CHAIN = "surveys:sweeper"
# A scheduled survey this late was never picked up (its job was lost): enqueue it again.
LOST_AFTER = timedelta(minutes=2)
SWEEP_BATCH = 500


def _queue(connection: redis.Redis) -> Queue:
    return Queue(QUEUE, connection=connection)


def enqueue_survey(connection: redis.Redis, survey: Survey) -> None:
    """Schedule the send at the survey's due time; call after the commit. The job id names
    the survey and its due time, so enqueuing twice makes one job."""
    if survey.state != SurveyState.scheduled:
        return
    _enqueue_at(connection, survey.id, survey.due_at)


def _enqueue_at(connection: redis.Redis, survey_id: str, due_at: datetime) -> None:
    _queue(connection).enqueue_at(
        due_at,
        send_survey,
        survey_id,
        job_id=job_id("survey", survey_id, int(due_at.timestamp())),
        result_ttl=3600,
    )


# --- sending ---------------------------------------------------------------------------------


def send_survey(survey_id: str) -> str:
    """Text one survey if it is still due; whatever runs it twice, it texts once."""
    svc = services()
    now = svc.clock.now()
    with session_scope(svc.engine) as session:
        survey = session.get(Survey, survey_id)
        if survey is None or survey.state != SurveyState.scheduled:
            return f"nothing to do ({survey.state if survey else 'no survey'})"
        claimed: _Claimed | None = None
        wait_until = _not_before(survey, now, svc.settings)
        if wait_until is not None:
            surveys.postpone(session=session, survey_id=survey_id, due_at=wait_until)
        else:
            # Held before the claim commits: a `sending` row always has a lease while it lives.
            hold(svc.redis, lease_key("survey", survey_id), lease_seconds(svc.settings))
            outcome = _claim(session, survey, now, svc.settings)
            if isinstance(outcome, str):
                return outcome
            claimed = outcome
    if claimed is None:
        assert wait_until is not None
        _enqueue_at(svc.redis, survey_id, wait_until)
        return f"waits until {wait_until.isoformat()}"
    # Committed: the row says "sending" before Twilio hears of it. The lease runs from now.
    hold(svc.redis, lease_key("survey", survey_id), lease_seconds(svc.settings))
    return _deliver(svc, survey_id, claimed)


def _not_before(survey: Survey, now: datetime, settings: Settings) -> datetime | None:
    """When the survey may go if not now: its due time if the job came early (RQ's scheduler
    may fire early; the survey may have been moved), the end of quiet hours if inside them."""
    if now < survey.due_at - EARLY_TOLERANCE:
        return survey.due_at
    allowed = parse_quiet_hours(settings.quiet_hours).next_allowed(now, settings.zone)
    return allowed if allowed > now else None


@dataclass(frozen=True)
class _Claimed:
    outgoing: surveys.Outgoing
    attempt: int
    # Set when an earlier attempt claimed it and its outcome is unknown: ask Twilio first.
    earlier_claim: datetime | None


def _claim(session: Session, survey: Survey, now: datetime, settings: Settings) -> _Claimed | str:
    """Claim the survey for this worker, or close it and say why it will not go."""
    if not surveys.ticket_surveyable(session=session, survey=survey):
        surveys.close(
            session=session, survey_id=survey.id, state=SurveyState.cancelled, now=now,
            reason="ticket_reopened",
        )  # fmt: skip
        return "cancelled: the ticket is open again"
    outgoing = surveys.prepare(session=session, survey=survey)
    reason = surveys.skip_reason(session=session, survey=survey, now=now, settings=settings)
    if reason is None and outgoing is None:
        reason = SkipReason.no_mobile
    if reason is not None or outgoing is None:
        surveys.close(
            session=session, survey_id=survey.id, state=SurveyState.skipped, now=now,
            reason=reason,
        )  # fmt: skip
        return f"skipped: {reason}"
    claimed = _Claimed(outgoing, survey.attempts + 1, survey.first_claimed_at)
    if not surveys.claim(session=session, survey=survey, outgoing=outgoing, now=now):
        return "claimed by another worker"
    return claimed


def _deliver(svc: Services, survey_id: str, claimed: _Claimed) -> str:
    from_ = svc.settings.twilio_phone_number
    outgoing = claimed.outgoing
    try:
        sid = None
        if claimed.earlier_claim is not None:
            sid = svc.gateway.find_sms(
                to=outgoing.to, from_=from_, body=outgoing.body, since=claimed.earlier_claim
            )
        if sid is None:
            sid = svc.gateway.send_sms(
                to=outgoing.to,
                from_=from_,
                body=outgoing.body,
                status_callback=svc.settings.public_url + STATUS_CALLBACK_PATH,
            )
    except Exception as exc:
        return _failed(svc, survey_id, exc, attempt=claimed.attempt)
    with session_scope(svc.engine) as session:
        now = svc.clock.now()
        if not surveys.mark_sent(session=session, survey_id=survey_id, message_sid=sid, now=now):
            log.error("survey %s was sent (%s) but is no longer 'sending'", survey_id, sid)
            return "sent, row moved meanwhile"
        survey = session.get(Survey, survey_id)
        assert survey is not None
        surveys.note_on_timeline(
            session=session, survey=survey, now=now, data={"event": "sent", "message_sid": sid}
        )
    log.info("survey %s texted to %s (%s)", survey_id, mask(outgoing.to), sid)
    return "sent"


def _failed(svc: Services, survey_id: str, exc: Exception, *, attempt: int) -> str:
    code, retryable = classify_failure(exc)
    now = svc.clock.now()
    error = f"{type(exc).__name__}: {code or ''} {exc}".strip()
    retry_at = None
    with session_scope(svc.engine) as session:
        survey = session.get(Survey, survey_id)
        assert survey is not None
        if retryable and attempt < MAX_ATTEMPTS:
            retry_at = now + timedelta(seconds=BACKOFF_SECONDS[attempt - 1])
            surveys.release(session=session, survey_id=survey_id, due_at=retry_at, error=error)
        else:
            surveys.mark_failed(
                session=session, survey_id=survey_id, now=now, error_code=code, error=error
            )
            if code == UNSUBSCRIBED and survey.customer_id is not None:
                # Twilio knows they texted STOP/TD: our record should say so too.
                surveys.opt_out(session=session, customer_id=survey.customer_id)
            surveys.note_on_timeline(
                session=session, survey=survey, now=now,
                data={"event": "failed", "error_code": code},
            )  # fmt: skip
    if retry_at is not None:
        _enqueue_at(svc.redis, survey_id, retry_at)
        log.warning("survey %s: attempt %s failed (%s); again at %s", survey_id, attempt, error,
                    retry_at.isoformat())  # fmt: skip
        return f"retry at {retry_at.isoformat()}"
    log.warning("survey %s failed for good: %s", survey_id, error)
    return f"failed: {code}"


# --- the sweeper -----------------------------------------------------------------------------


def sweep_surveys(token: str = "") -> dict[str, int]:
    """Recover surveys of dead workers, re-enqueue lost ones, expire unanswered ones; again in
    a minute."""
    svc = services()
    try:
        return sweep(svc)
    finally:
        SURVEY_SWEEPER.next(svc.redis, token, svc.clock.now(), svc.settings.survey_sweep_seconds)


# A dead sweeper chain is replaced after a few missed sweeps (see hotline/chains.py).
SURVEY_SWEEPER = Chain(
    mark=SWEEPER_CHAIN,
    queue=QUEUE,
    func=sweep_surveys,
    every_seconds=SWEEP_EVERY_SECONDS,
    ttl_seconds=SWEEP_EVERY_SECONDS * 3,
)


def sweep(svc: Services) -> dict[str, int]:
    """One pass of the sweeper (no re-scheduling): what it did, by kind."""
    now = svc.clock.now()
    settings = svc.settings
    timed_out = now - timedelta(seconds=settings.survey_sending_timeout_seconds)
    lapsed = now - timedelta(seconds=lease_seconds(settings))
    with session_scope(svc.engine) as session:
        claimed = session.exec(
            select(Survey)
            .where(Survey.state == SurveyState.sending, col(Survey.claimed_at) < lapsed)
            .limit(SWEEP_BATCH)
        )
        stuck = [survey for survey in claimed if _abandoned(svc, survey, timed_out)]
        lost = list(
            session.exec(
                select(Survey.id, Survey.due_at)
                .where(Survey.state == SurveyState.scheduled, col(Survey.due_at) < now - LOST_AFTER)
                .limit(SWEEP_BATCH)
            )
        )
        expired = session.execute(
            update(Survey)
            .where(
                col(Survey.state) == SurveyState.sent,
                col(Survey.sent_at) < now - timedelta(hours=settings.survey_reply_hours),
            )
            .values(state=SurveyState.expired, closed_at=now)
        )
    recovered = sum(_recover(svc, survey) for survey in stuck)
    for survey_id, due_at in lost:
        _enqueue_at(svc.redis, survey_id, due_at)
    return {
        "recovered": recovered,
        "resent": len(stuck) - recovered,
        "requeued": len(lost),
        "expired": int(expired.rowcount),  # type: ignore[attr-defined]
    }


def _abandoned(svc: Services, survey: Survey, timed_out: datetime) -> bool:
    """A `sending` row past its lease window: its worker died if the lease has lapsed, or
    (whatever Redis says) once the sending timeout has passed."""
    assert survey.claimed_at is not None
    if survey.claimed_at < timed_out:
        return True
    return not held(svc.redis, lease_key("survey", survey.id))


def _recover(svc: Services, survey: Survey) -> int:
    """A survey whose worker died after claiming it: 1 if Twilio had it (now marked sent),
    0 if it goes back to be sent."""
    assert survey.phone is not None and survey.body is not None
    sid = svc.gateway.find_sms(
        to=survey.phone,
        from_=svc.settings.twilio_phone_number,
        body=survey.body,
        since=survey.first_claimed_at or survey.claimed_at or survey.created_at,
    )
    now = svc.clock.now()
    with session_scope(svc.engine) as session:
        if sid is not None:
            if surveys.mark_sent(session=session, survey_id=survey.id, message_sid=sid, now=now):
                surveys.note_on_timeline(
                    session=session, survey=survey, now=now,
                    data={"event": "sent", "message_sid": sid, "recovered": True},
                )  # fmt: skip
            log.warning("survey %s: worker died after Twilio took it; marked sent", survey.id)
            return 1
        released = surveys.release(
            session=session, survey_id=survey.id, due_at=now, error="worker died before sending"
        )
    if released:
        _enqueue_at(svc.redis, survey.id, now)
        log.warning("survey %s: worker died before sending; sending again", survey.id)
    return 0
