"""Routing jobs: pushing a waiting caller out to an agent, and the router's heartbeat.

The router keeps its own timers (routing/lua/); the heartbeat fires the due ones
every second and puts the router's agent state changes on record. Everything re-checks state
when it runs: late, repeated or overtaken work changes nothing.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import redis
from rq import Queue
from twilio.base.exceptions import TwilioRestException

from hotline.chains import Chain
from hotline.context import Services
from hotline.db import session_scope
from hotline.jobs import job_id, services
from routing import history, hold_calls
from routing.alert_watch import AlertChanges, check_alerts
from routing.alerts import AlertRules, load_messages
from routing.config import routing_for
from routing.engine import SyncRouter
from routing.floor import read_floor
from routing.stats import StatsReader
from routing.stats_history import save_recent_days
from routing.twiml import CONNECT_URL

log = logging.getLogger(__name__)

QUEUE = "default"


_router: tuple[Services, SyncRouter] | None = None


def router() -> SyncRouter:
    """The router on this process's services, built once per set of services."""
    global _router
    svc = services()
    if _router is None or _router[0] is not svc:
        settings = svc.settings
        config = routing_for(
            settings.routing_path,
            ring_timeout_seconds=settings.ring_timeout_seconds,
            wrap_up_seconds=settings.wrapup_seconds,
            timezone=settings.timezone,
        )
        _router = (svc, SyncRouter(svc.redis, config))
    return _router[1]


def _queue(connection: redis.Redis) -> Queue:
    return Queue(QUEUE, connection=connection)


def schedule_push(connection: redis.Redis, call_sid: str, agent_id: int) -> None:
    _queue(connection).enqueue(
        push_offer, call_sid, agent_id, job_id=job_id("push", call_sid, agent_id)
    )


# --- jobs ------------------------------------------------------------------------------------


def push_offer(call_sid: str, agent_id: int) -> str:
    """Take a waiting caller out of the Twilio queue to the agent they were offered to."""
    svc = services()
    state = router().call_state(call_sid)
    if state.get("state") != "offered" or state.get("agent") != str(agent_id):
        return "stale"
    if state.get("vh") == "1":
        # A caller waiting to be called back: no Twilio queue holds them, their phone rings.
        placed, outcome = hold_calls.place_call_back(router(), call_sid, agent_id)
        if outcome is not None and outcome.next_call and outcome.agent_id is not None:
            schedule_push(svc.redis, outcome.next_call, outcome.agent_id)
        return placed
    queue_sid = state.get("twilio_queue")
    if not queue_sid:
        # Its wait loop has not run yet; when it does it finds the offer and leaves the queue.
        return "left_to_wait_loop"
    url = f"{svc.settings.public_url}{CONNECT_URL}?agent={agent_id}"
    try:
        svc.gateway.redirect_queue_member(queue_sid=queue_sid, call_sid=call_sid, url=url)
    except TwilioRestException as exc:
        if exc.status == 404:
            # Not in the queue any more: the wait loop got there first, or the caller hung up.
            # Routine at volume, so one line and no traceback.
            log.info("push of %s to agent %s: no longer queued", call_sid, agent_id)
        else:
            _push_failed(call_sid, agent_id)
        return "left_to_wait_loop"
    except Exception:
        _push_failed(call_sid, agent_id)
        return "left_to_wait_loop"
    return "pushed"


def _push_failed(call_sid: str, agent_id: int) -> None:
    # The wait loop checks for offers too: a failed push costs one loop, not the call.
    log.warning(
        "push of %s to agent %s failed; the wait loop will pick it up",
        call_sid, agent_id, exc_info=True,
    )  # fmt: skip


# --- the heartbeat: due timers fired, the router's changes put on record ---------------------

HEARTBEAT_SECONDS = 1
HEARTBEAT_CHAIN = "{rt}:heartbeat"


def heartbeat(token: str = "") -> int:
    """Fire the router's due timers, record its agent state changes, keep the history and run
    the alert rules; again in a second."""
    svc = services()
    try:
        fired = tick()
        _record_agent_states()
        save_figures()
        watch_floor()
        return fired
    finally:
        HEARTBEAT.next(svc.redis, token, svc.clock.now())


HEARTBEAT = Chain(
    mark=HEARTBEAT_CHAIN, queue=QUEUE, func=heartbeat, every_seconds=HEARTBEAT_SECONDS
)


def tick() -> int:
    """Fire every due timer (escalation steps, unreported offers, wrap-up ends)."""
    svc = services()
    fired_total = 0
    while True:
        fired, pushes = router().tick(now=svc.clock.now())
        for call_sid, agent_id in pushes:
            schedule_push(svc.redis, call_sid, agent_id)
        fired_total += fired
        if fired < 200:
            return fired_total


# --- alerts and the charts' history, from one cheap read of the floor ------------------------


def watch_floor() -> AlertChanges:
    """This minute's history sample, and alerts raised and cleared as the rules say."""
    svc = services()
    config = router().config
    floor = read_floor(svc.redis, config, svc.clock.now())
    history.sample(svc.redis, floor)
    return check_alerts(
        client=svc.redis,
        engine=svc.engine,
        floor=floor,
        rules=AlertRules.of(svc.settings, config),
        messages=load_messages(),
    )


# --- the live figures' history ---------------------------------------------------------------

FIGURES_SAVED = "{rt}:stats:saved"
FIGURES_EVERY_SECONDS = 60


def save_figures() -> int:
    """Copy today's and yesterday's counters to `daily_figures`, at most once a minute
    whichever worker runs the heartbeat; how many rows were written."""
    svc = services()
    if not svc.redis.set(FIGURES_SAVED, 1, nx=True, ex=FIGURES_EVERY_SECONDS):
        return 0
    reader = StatsReader(svc.redis, router().config, sl_target=svc.settings.service_level_target)
    with session_scope(svc.engine) as session:
        return save_recent_days(session=session, reader=reader, now=svc.clock.now())


# --- the router's agent state changes, on record in the database ----------------------------

EVENTS_CURSOR = "{rt}:events:recorded"
RECORDING_LOCK = "{rt}:events:recording"
_BATCH = 500


def record_agent_states() -> int:
    """Write the router's own agent state changes (reserved, busy, wrap-up, missed, back to
    available) to the agents' histories, and what became of each call back of a virtual hold
    to its callback; how many were written."""
    return _record_agent_states()


def _record_agent_states() -> int:
    from routing import service  # routing.service schedules our jobs: import at call time

    svc = services()
    if not svc.redis.set(RECORDING_LOCK, 1, nx=True, ex=60):
        return 0  # another worker is at it
    written = 0
    try:
        stored = svc.redis.get(EVENTS_CURSOR)
        cursor = stored.decode() if isinstance(stored, bytes) else "0-0"
        while True:
            batch = router().events_after(cursor, _BATCH)
            if not batch:
                break
            states = [
                event
                for _event_id, event in batch
                if event.get("kind") == "agent_state" and not event.get("actor")
            ]
            with session_scope(svc.engine) as session:
                # The batch's agents locked and loaded at once: one query, not one per change,
                # and the changes are written together at the commit.
                locked = service.lock_agents(
                    session=session, agent_ids=(int(event["agent"]) for event in states)
                )
                for _event_id, event in batch:
                    if event.get("kind") in hold_calls.HOLD_EVENTS:
                        written += hold_calls.record_hold_event(session, event)
                    elif event.get("kind") == "agent_state" and not event.get("actor"):
                        written += service.record_router_state(
                            session=session,
                            agent_id=int(event["agent"]),
                            state=event["to"],
                            reason=event.get("reason") or None,
                            at=datetime.fromtimestamp(float(event["at"]), UTC),
                            locked=locked,
                        )
            cursor = batch[-1][0]
            svc.redis.set(EVENTS_CURSOR, cursor)
            if len(batch) < _BATCH:
                break
    finally:
        svc.redis.delete(RECORDING_LOCK)
    return written
