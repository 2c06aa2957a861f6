"""Routing jobs: escalation steps, pushing a waiting caller to an agent, offer and wrap-up timers.

Each takes ids, reloads state from the router, and does nothing if the state moved on: a timer
that fires late, twice, or after a webhook already did its work changes nothing.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from functools import lru_cache

import redis
from rq import Queue

from hotline.db import session_scope
from hotline.jobs import job_id, services
from routing.config import routing_for
from routing.engine import Placement, SyncRouter
from routing.twiml import CONNECT_URL

log = logging.getLogger(__name__)

QUEUE = "default"
# After the ring timeout, how long we wait for Twilio's dial result before freeing the agent.
OFFER_GRACE_SECONDS = 30


@lru_cache(maxsize=1)
def _router_for(redis_id: int) -> SyncRouter:
    svc = services()
    settings = svc.settings
    config = routing_for(
        settings.routing_path,
        ring_timeout_seconds=settings.ring_timeout_seconds,
        wrap_up_seconds=settings.wrapup_seconds,
    )
    return SyncRouter(svc.redis, config)


def router() -> SyncRouter:
    return _router_for(id(services().redis))


def _queue(connection: redis.Redis) -> Queue:
    return Queue(QUEUE, connection=connection)


# --- scheduling (also used by the webhooks, from a thread) ---------------------------------


def schedule_escalation(connection: redis.Redis, call_sid: str, in_seconds: int) -> None:
    _queue(connection).enqueue_in(
        timedelta(seconds=in_seconds), escalate_call, call_sid,
        job_id=job_id("escalate", call_sid, in_seconds),
    )  # fmt: skip


def schedule_offer_expiry(
    connection: redis.Redis, call_sid: str, agent_id: int, offered_at: str, ring_timeout: int
) -> None:
    _queue(connection).enqueue_in(
        timedelta(seconds=ring_timeout + OFFER_GRACE_SECONDS), expire_offer, call_sid, agent_id,
        offered_at, job_id=job_id("expire", call_sid, agent_id, offered_at),
    )  # fmt: skip


def schedule_wrap_up_end(
    connection: redis.Redis, agent_id: int, since: str, wrap_up_seconds: int
) -> None:
    wrapup_id = job_id("wrapup", agent_id, since)
    if wrap_up_seconds <= 0:
        _queue(connection).enqueue(end_wrap_up, agent_id, since, job_id=wrapup_id)
    else:
        _queue(connection).enqueue_in(
            timedelta(seconds=wrap_up_seconds), end_wrap_up, agent_id, since, job_id=wrapup_id
        )


def schedule_push(connection: redis.Redis, call_sid: str, agent_id: int) -> None:
    _queue(connection).enqueue(
        push_offer, call_sid, agent_id, job_id=job_id("push", call_sid, agent_id)
    )


def follow_up(connection: redis.Redis, call_sid: str, placement: Placement) -> None:
    """What a waiting call's new placement asks for: a push to its agent, or the next step."""
    if placement.state == "offered" and placement.agent_id is not None:
        schedule_push(connection, call_sid, placement.agent_id)
    elif placement.state == "waiting" and placement.next_step_in is not None:
        schedule_escalation(connection, call_sid, placement.next_step_in)


# --- jobs ------------------------------------------------------------------------------------


def escalate_call(call_sid: str) -> str:
    svc = services()
    placement = router().escalate(call_sid=call_sid, now=svc.clock.now())
    follow_up(svc.redis, call_sid, placement)
    return placement.state


def push_offer(call_sid: str, agent_id: int) -> str:
    """Take a waiting caller out of the Twilio queue to the agent they were offered to."""
    svc = services()
    state = router().call_state(call_sid)
    if state.get("state") != "offered" or state.get("agent") != str(agent_id):
        return "stale"
    schedule_offer_expiry(
        svc.redis,
        call_sid,
        agent_id,
        state.get("offered_at", ""),
        svc.settings.ring_timeout_seconds,
    )
    queue_sid = state.get("twilio_queue")
    if not queue_sid:
        # Its wait loop has not run yet; when it does it finds the offer and leaves the queue.
        return "left_to_wait_loop"
    url = f"{svc.settings.public_url}{CONNECT_URL}?agent={agent_id}"
    try:
        svc.gateway.redirect_queue_member(queue_sid=queue_sid, call_sid=call_sid, url=url)
    except Exception:
        # The wait loop checks for offers too: a failed push costs one loop, not the call.
        log.warning(
            "push of %s to agent %s failed; the wait loop will pick it up",
            call_sid,
            agent_id,
            exc_info=True,
        )
        return "left_to_wait_loop"
    return "pushed"


def expire_offer(call_sid: str, agent_id: int, offered_at: str) -> str:
    """No dial result came for an offer: free the call for the next agent."""
    svc = services()
    current = router().call_state(call_sid)
    if current.get("state") != "offered" or current.get("offered_at") != offered_at:
        return "stale"
    placement = router().offer_result(
        call_sid=call_sid, agent_id=agent_id, outcome="no-answer", now=svc.clock.now()
    )
    log.warning("offer of %s to agent %s expired without a dial result", call_sid, agent_id)
    follow_up(svc.redis, call_sid, placement)
    return placement.state


def end_wrap_up(agent_id: int, since: str) -> str:
    svc = services()
    outcome = router().wrap_up_done(agent_id=agent_id, since=since, now=svc.clock.now())
    if outcome.offered_call:
        schedule_push(svc.redis, outcome.offered_call, agent_id)
    return outcome.state


# --- the router's agent state changes, on record in the database ----------------------------

EVENTS_CURSOR = "{rt}:events:recorded"
RECORDING_LOCK = "{rt}:events:recording"
RECORDING_CHAIN = "{rt}:events:chain"
RECORD_EVERY_SECONDS = 5
_BATCH = 500


def start_recording_agent_states(connection: redis.Redis) -> bool:
    """Start the chain of recording jobs unless one is alive (its mark is fresh)."""
    if not connection.set(RECORDING_CHAIN, 1, nx=True, ex=RECORD_EVERY_SECONDS * 6):
        return False
    _queue(connection).enqueue(record_agent_states, job_id=job_id("record-agent-states", "start"))
    return True


def record_agent_states() -> int:
    """Write the router's own agent state changes (reserved, busy, wrap-up, missed, back to
    available) to the agents' histories, then come back in a few seconds."""
    svc = services()
    try:
        return _record_agent_states()
    finally:
        svc.redis.set(RECORDING_CHAIN, 1, ex=RECORD_EVERY_SECONDS * 6)
        due = svc.clock.now().timestamp() + RECORD_EVERY_SECONDS
        _queue(svc.redis).enqueue_in(
            timedelta(seconds=RECORD_EVERY_SECONDS), record_agent_states,
            job_id=job_id("record-agent-states", round(due, 3)),
        )  # fmt: skip


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
            with session_scope(svc.engine) as session:
                for _event_id, event in batch:
                    if event.get("kind") == "agent_state" and not event.get("actor"):
                        written += service.record_router_state(
                            session=session,
                            agent_id=int(event["agent"]),
                            state=event["to"],
                            reason=event.get("reason") or None,
                            at=datetime.fromtimestamp(float(event["at"]), UTC),
                        )
            cursor = batch[-1][0]
            svc.redis.set(EVENTS_CURSOR, cursor)
            if len(batch) < _BATCH:
                break
    finally:
        svc.redis.delete(RECORDING_LOCK)
    return written
