"""Jobs of the voice side: a finished call goes onto its ticket."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy.exc import SQLAlchemyError

from crm import service as crm
from crm.models import CallRecord
from hotline.chains import Chain
from hotline.db import session_scope
from hotline.jobs import services
from hotline.phone import to_e164
from ivr import parked
from ivr.menu import Menu, load_menu
from ivr.session import (
    ENDED_CALLS,
    ENDED_CALLS_TAKEN,
    CallState,
    close_forgotten,
    forgotten_calls,
    load_sync,
    mark_logged,
)
from recordings import service as recordings
from routing import jobs as routing_jobs

log = logging.getLogger(__name__)

QUEUE = "default"

# After logging, the session lingers this long so late repeats of callbacks stay harmless.
KEEP_AFTER_LOGGED_SECONDS = 3600
LOGGER_EVERY_SECONDS = 1
LOGGER_CHAIN = "ivr:ended:chain"
LOGGER_LOCK = "ivr:ended:lock"


def call_record(state: CallState, menu: Menu, *, now: datetime) -> CallRecord:
    """What the session knows about a finished call, as the CRM wants it."""
    ended_at = state.time("ended_at") or now
    duration = int(state.get("duration") or 0) or None
    started_at = state.started_at or (ended_at - timedelta(seconds=duration or 0))
    priority = state.get("priority")
    return CallRecord(
        call_sid=state.call_sid,
        from_number=state.from_number or to_e164(state.get("from_cb")),
        to_number=state.to_number or to_e164(state.get("to_cb")),
        customer_id=state.customer_id,
        language=state.language or menu.default_language,
        ivr_path=state.path,
        route=state.get("route"),
        skill=state.get("skill"),
        priority=int(priority) if priority else None,
        category=state.get("category") or menu.unrouted.category,
        subject=state.get("subject") or menu.unrouted.subject,
        complaint=state.flag("complaint"),
        after_hours=state.after_hours,
        self_service=state.flag("self_service"),
        voicemail_recording_sid=state.get("voicemail_sid"),
        started_at=started_at,
        queue_entered_at=state.time("queued_at"),
        answered_at=state.time("answered_at"),
        agent_id=int(agent) if (agent := state.get("agent_id") or "").isdigit() else None,
        ended_at=ended_at,
        duration_seconds=duration,
        twilio_status=state.get("twilio_status"),
        queue_result=state.get("queue_result"),
        virtual_hold=state.get("vhold") or None,
    )


def finalise_call(call_sid: str) -> str | None:
    """Write a finished call to its call log and ticket; safe to run any number of times."""
    svc = services()
    state = load_sync(svc.redis, call_sid)
    if state is None:
        log.error("call %s ended but its session is gone; nothing to log", call_sid)
        return None
    if state.flag("logged"):
        return None
    menu = load_menu(svc.settings.ivr_menu_path)
    record = call_record(state, menu, now=svc.clock.now())
    with session_scope(svc.engine) as session:
        has_voicemail = recordings.has_voicemail(session=session, call_sid=call_sid)
        call = crm.log_call(
            session=session,
            record=record,
            calendar=svc.calendar,
            now=svc.clock.now(),
            window_days=svc.settings.repeat_contact_window_days,
            has_recording=has_voicemail,
        )
        disposition = str(call.disposition)
        # Recordings and PCI pauses that came before the log go onto the ticket now.
        recordings.link_call(session=session, call_sid=call_sid, call=call)
    mark_logged(svc.redis, call_sid, keep_seconds=KEEP_AFTER_LOGGED_SECONDS)
    return disposition


def close_forgotten_calls(limit: int = 100) -> int:
    """Calls older than the longest call with no end reported: Twilio's last status callback was
    lost. End them now (routing lets go of them too) so they are logged, never silently lost."""
    svc = services()
    now = svc.clock.now()
    cutoff = now.timestamp() - svc.settings.max_call_seconds
    closed = 0
    for call_sid in forgotten_calls(svc.redis, started_before=cutoff, limit=limit):
        if close_forgotten(svc.redis, call_sid, now=now):
            routing_jobs.router().call_gone(call_sid=call_sid, now=now)
            log.warning("call %s never reported its end; logging it as ended now", call_sid)
            closed += 1
    return closed


def replay_parked_events() -> int:
    """Status events the webhooks parked in the database while Redis was away, into Redis."""
    svc = services()
    router = routing_jobs.router()
    try:
        return parked.replay(
            engine=svc.engine,
            client=svc.redis,
            ttl_seconds=svc.settings.ivr_session_ttl_seconds,
            release_call=lambda call_sid: router.call_gone(call_sid=call_sid, now=svc.clock.now()),
        )
    except SQLAlchemyError:
        # The database is away now: the events wait there; ended calls in Redis still go on.
        log.warning("could not read parked call events yet; will retry", exc_info=True)
        return 0


def log_ended_calls(limit: int = 500) -> int:
    """Write every call that ended to its ticket; on a database failure keep the rest for later."""
    svc = services()
    if not svc.redis.set(LOGGER_LOCK, 1, nx=True, ex=60):
        return 0  # another worker is at it
    logged = 0
    try:
        replay_parked_events()
        close_forgotten_calls()
        # Calls a crashed run had taken but not logged go back in line first.
        while svc.redis.rpoplpush(ENDED_CALLS_TAKEN, ENDED_CALLS) is not None:
            pass
        for _ in range(limit):
            raw = svc.redis.rpoplpush(ENDED_CALLS, ENDED_CALLS_TAKEN)
            if raw is None:
                break
            call_sid = raw.decode() if isinstance(raw, bytes) else str(raw)
            try:
                finalise_call(call_sid)
            except Exception:
                # Most likely the database is away: put the call back and try again next time.
                svc.redis.rpoplpush(ENDED_CALLS_TAKEN, ENDED_CALLS)
                log.warning("could not log call %s yet; will retry", call_sid, exc_info=True)
                break
            svc.redis.lrem(ENDED_CALLS_TAKEN, 1, call_sid)
            logged += 1
    finally:
        svc.redis.delete(LOGGER_LOCK)
    return logged


def call_logger(token: str = "") -> int:
    """Log the calls that ended; again in a second."""
    svc = services()
    try:
        return log_ended_calls()
    finally:
        CALL_LOGGER.next(svc.redis, token, svc.clock.now())


CALL_LOGGER = Chain(
    mark=LOGGER_CHAIN, queue=QUEUE, func=call_logger, every_seconds=LOGGER_EVERY_SECONDS
)
