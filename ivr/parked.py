"""Call status events parked in the database while Redis is away, and their replay.

Twilio sends a status callback once and does not retry it on an empty 200, so the end of a call
that comes during a Redis outage would be lost with it: the call never logged, its agent never
released. The status route parks such an event here instead; the call logger replays parked
events into Redis when it is back, through the same compare-and-set as the webhook, so a
replay after a crash or a repeat of the callback changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

import redis
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from hotline.db import session_scope
from ivr.models import ParkedCallEvent
from ivr.session import ENDED_CALLS, flatten, record_status_sync

log = logging.getLogger(__name__)


def park(
    *,
    session: Session,
    call_sid: str,
    event_id: str,
    terminal: bool,
    fields: dict[str, Any],
    now: datetime,
) -> bool:
    """Keep one status event; False if this very event was already parked (a repeat)."""
    event = ParkedCallEvent(
        call_sid=call_sid,
        event_id=event_id,
        terminal=terminal,
        fields=flatten(fields),
        received_at=now,
    )
    try:
        with session.begin_nested():
            session.add(event)
    except IntegrityError:
        return False
    return True


def replay(
    *,
    engine: Any,
    client: redis.Redis,
    ttl_seconds: int,
    release_call: Callable[[str], object],
    limit: int = 500,
) -> int:
    """Apply parked events to their calls' sessions, oldest first; returns how many."""
    with session_scope(engine) as session:
        events = session.exec(
            select(ParkedCallEvent).order_by(col(ParkedCallEvent.id)).limit(limit)
        ).all()
        for event in events:
            outcome = record_status_sync(
                client,
                event.call_sid,
                event.event_id,
                terminal=event.terminal,
                flat_fields=event.fields,
                ttl_seconds=ttl_seconds,
            )
            if event.terminal:
                # Queued for logging and let go by routing even when the webhook got as far as
                # ending it before Redis went (outcome 0): logging a call twice is a no-op.
                client.lpush(ENDED_CALLS, event.call_sid)
                release_call(event.call_sid)
            elif outcome == 0:
                log.debug("parked event %s of %s was a repeat", event.event_id, event.call_sid)
            session.delete(event)
        count = len(events)
    if count:
        log.info("replayed %d call event(s) parked while Redis was away", count)
    return count
