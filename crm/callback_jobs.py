"""RQ jobs that place callbacks, on the `callbacks` queue.

`place_callback` claims one attempt in SQL (committed) before the REST request, so a duplicated
or retried job never calls twice. The sweeper, every SWEEP_SECONDS, places what is due (after-hours
voicemails at the opening, retries whose job was lost) and gives back the claims of workers
that died before their REST request.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import redis
from rq import Queue
from twilio.base.exceptions import TwilioRestException

from crm import callback_results, callbacks
from crm.callbacks import CallbackPolicy
from hotline.chains import Chain
from hotline.db import session_scope
from hotline.jobs import job_id, services
from hotline.leases import held, hold, lease_key, lease_seconds
from hotline.phone import mask

log = logging.getLogger(__name__)

QUEUE = "callbacks"
SWEEP_SECONDS = 30
SWEEP_CHAIN = "callbacks:sweeper:chain"
# How long an enqueued placement stands before the sweeper may enqueue it again (a lost job).
# A second job for the same attempt is harmless: only one claim succeeds.
ENQUEUED_MARK_SECONDS = 600

# The voice side answers these (ivr/callback_webhooks.py).
ANSWER_PATH = "/twilio/voice/callback/answer"
STATUS_PATH = "/twilio/voice/callback/status"

# Twilio refusals that another try would not change: an invalid, unreachable or barred number,
# a country the account may not call.
NOT_RETRYABLE = frozenset({13223, 13224, 21211, 21214, 21215, 21216, 21217, 21401, 21407, 21610})


def placement_job_id(
    callback_id: int, attempts: int, due_at: datetime, *, by_sweeper: bool = False
) -> str:
    """One job id per callback, attempt and due time (and one more for the sweeper's)."""
    parts = ("callback", callback_id, attempts + 1, int(due_at.timestamp()))
    return job_id(*parts, "sweep") if by_sweeper else job_id(*parts)


def schedule_placement(
    connection: redis.Redis,
    *,
    callback_id: int,
    attempts: int,
    due_at: datetime,
    now: datetime,
    by_sweeper: bool = False,
) -> bool:
    """Enqueue the placement of attempt `attempts + 1` at `due_at` (RQ's scheduler), once.

    The sweeper's job for the same attempt has an id of its own: it stands in for a scheduled
    job that was lost, and if both run, only one claim succeeds."""
    identifier = placement_job_id(callback_id, attempts, due_at, by_sweeper=by_sweeper)
    if not connection.set(f"jobs:enqueued:{identifier}", 1, nx=True, ex=ENQUEUED_MARK_SECONDS):
        return False
    queue = Queue(QUEUE, connection=connection)
    if due_at <= now:
        queue.enqueue(place_callback, callback_id, attempts, job_id=identifier)
    else:
        queue.enqueue_at(due_at, place_callback, callback_id, attempts, job_id=identifier)
    return True


def _retryable(exc: TwilioRestException) -> bool:
    code = int(exc.code) if exc.code else None
    if code in NOT_RETRYABLE:
        return False
    return exc.status == 429 or exc.status >= 500 or code is None


def place_callback(callback_id: int, attempts: int) -> str | None:
    """Place attempt `attempts + 1` of a callback; the CallSid, or None if not placed now."""
    svc = services()
    policy = CallbackPolicy.from_settings(svc.settings)
    now = svc.clock.now()
    # Held before the claim commits, renewed after: a live claim always has a lease.
    lease = lease_key("callback", callback_id)
    hold(svc.redis, lease, lease_seconds(svc.settings))
    with session_scope(svc.engine) as session:
        claimed = callbacks.claim(
            session=session,
            callback_id=callback_id,
            attempts=attempts,
            now=now,
            calendar=svc.calendar,
            policy=policy,
        )
    if claimed is None:
        return None
    hold(svc.redis, lease, lease_seconds(svc.settings))
    query = f"callback={callback_id}&attempt={claimed.attempt}"
    base = svc.settings.public_url
    try:
        call_sid = svc.gateway.create_call(
            to=claimed.phone,
            from_=svc.settings.twilio_phone_number,
            url=f"{base}{ANSWER_PATH}?{query}",
            status_callback=f"{base}{STATUS_PATH}?{query}",
            machine_detection="Enable",
        )
    except TwilioRestException as exc:
        # Twilio answered with an error: no call was created.
        log.warning("callback %s to %s refused: %s", callback_id, mask(claimed.phone), exc.code)
        with session_scope(svc.engine) as session:
            retry = callback_results.place_failed(
                session=session,
                callback_id=callback_id,
                attempt=claimed.attempt,
                code=int(exc.code) if exc.code else None,
                retryable=_retryable(exc),
                now=now,
                policy=policy,
                calendar=svc.calendar,
            )
        if retry is not None:
            schedule_placement(
                svc.redis, callback_id=callback_id, attempts=retry.attempts,
                due_at=retry.due_at, now=now,
            )  # fmt: skip
        return None
    except Exception:
        # No answer (a timeout): the call may exist, and Twilio may still place it. The claim
        # stands, leased for the whole claim timeout: its webhooks will say so, or the sweeper
        # gives the attempt back once no call can still come of it.
        hold(svc.redis, lease, policy.claim_timeout_seconds)
        raise
    with session_scope(svc.engine) as session:
        callbacks.record_placed(
            session=session,
            callback_id=callback_id,
            attempt=claimed.attempt,
            call_sid=call_sid,
            now=svc.clock.now(),
        )
    log.info("callback %s placed to %s: %s", callback_id, mask(claimed.phone), call_sid)
    return call_sid


def sweep_callbacks(limit: int = 200) -> int:
    """Give back dead workers' claims, then enqueue every callback whose time has come (while
    the bank is closed, only those of around-the-clock categories). The number enqueued."""
    svc = services()
    now = svc.clock.now()
    policy = CallbackPolicy.from_settings(svc.settings)
    with session_scope(svc.engine) as session:
        window = timedelta(seconds=lease_seconds(svc.settings))
        recovered = callback_results.recover_stale_claims(
            session=session, now=now, policy=policy,
            lease=(window, lambda callback_id: held(svc.redis, lease_key("callback", callback_id))),
        )  # fmt: skip
        callback_results.close_lost_calls(
            session=session, now=now, older_than=timedelta(seconds=svc.settings.max_call_seconds),
            policy=policy, calendar=svc.calendar,
        )  # fmt: skip
    for retry in recovered:
        log.warning("callback %s: its worker died before calling; placing it again", retry)
    # While the bank is closed only the around-the-clock categories (a lost card) are called.
    only = None if svc.calendar.is_open(now) else policy.around_the_clock
    if only is not None and not only:
        return 0
    with session_scope(svc.engine) as session:
        due = callbacks.due_callbacks(session=session, now=now, limit=limit, categories=only)
    enqueued = 0
    for callback_id, attempts, due_at in due:
        enqueued += schedule_placement(
            svc.redis, callback_id=callback_id, attempts=attempts, due_at=due_at, now=now,
            by_sweeper=True,
        )  # fmt: skip
    return enqueued


def callback_sweeper(token: str = "") -> int:
    """Sweep now; again in SWEEP_SECONDS."""
    svc = services()
    try:
        return sweep_callbacks()
    finally:
        SWEEPER.next(svc.redis, token, svc.clock.now(), svc.settings.callback_sweep_seconds)


# A dead sweeper chain is replaced after a few missed sweeps (see hotline/chains.py).
SWEEPER = Chain(
    mark=SWEEP_CHAIN,
    queue=QUEUE,
    func=callback_sweeper,
    every_seconds=SWEEP_SECONDS,
    ttl_seconds=SWEEP_SECONDS * 3,
)
