"""The heartbeat's side of alerts: raise what started, clear what ended, tell the streams.

Each second the rules run on the floor (routing/floor.py, Redis only). The conditions holding
are remembered in a Redis hash (key → alert id), so a quiet second touches no database; the
database is read and written only when something starts or ends. Several workers may run the
heartbeat: a lock keeps them from evaluating at the same moment, and the alert table's unique
`open_key` keeps one open alert per kind and queue even if two raise it at once. The hash is
rebuilt from the database once a minute (by the clock), so a lost hash leaves no alert
uncleared.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

import redis
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from hotline.db import session_scope
from routing import alert_feed, alerts
from routing.alerts import AlertMessages, AlertRules, Condition
from routing.floor import Floor
from routing.models import AlertPublic
from routing.stats_figures import as_text

log = logging.getLogger(__name__)

HOLDING = "{rt}:alerts:holding"
CHECKING = "{rt}:alerts:checking"
REBUILT = "{rt}:alerts:rebuilt"


@dataclass
class AlertChanges:
    raised: list[AlertPublic] = field(default_factory=list)
    cleared: list[AlertPublic] = field(default_factory=list)


def check_alerts(
    *,
    client: redis.Redis,
    engine: Engine,
    floor: Floor,
    rules: AlertRules,
    messages: AlertMessages,
) -> AlertChanges:
    """Raise and clear alerts as the rules say on this floor; what changed (by this call)."""
    changes = AlertChanges()
    if not client.set(CHECKING, 1, nx=True, ex=10):
        return changes  # another worker is at it this second
    try:
        # Once a minute of the clock's, whichever worker comes first (the old minute back).
        minute = str(floor.minute)
        if as_text(client.set(REBUILT, minute, get=True, ex=3600) or b"") != minute:
            _rebuild(client, engine)
        holding = {as_text(key): int(value) for key, value in client.hgetall(HOLDING).items()}
        now_held = {condition.key: condition for condition in alerts.conditions(floor, rules)}
        for key, condition in now_held.items():
            if key not in holding:
                raised = _raise(client, engine, condition, messages, floor.at)
                if raised is not None:
                    changes.raised.append(raised)
        for key, alert_id in holding.items():
            if key not in now_held:
                cleared = _clear(client, engine, key, alert_id, floor.at)
                if cleared is not None:
                    changes.cleared.append(cleared)
    finally:
        client.delete(CHECKING)
    for alert in [*changes.raised, *changes.cleared]:
        alert_feed.publish(client, alert)
    return changes


def _raise(
    client: redis.Redis,
    engine: Engine,
    condition: Condition,
    messages: AlertMessages,
    now: datetime,
) -> AlertPublic | None:
    try:
        with session_scope(engine) as session:
            alert, raised = alerts.raise_alert(
                session=session, condition=condition, messages=messages, now=now
            )
            public = alerts.public(alert)
    except IntegrityError:
        # Another heartbeat raised it this very moment and announces it; the next second
        # finds it holding.
        return None
    client.hset(HOLDING, condition.key, public.id)
    if not raised:
        return None  # holding already: raised by a heartbeat that did not note it here
    log.info("alert raised: %s", condition.key)
    return public


def _clear(
    client: redis.Redis, engine: Engine, key: str, alert_id: int, now: datetime
) -> AlertPublic | None:
    with session_scope(engine) as session:
        alert = alerts.clear_alert(session=session, alert_id=alert_id, now=now)
        cleared = alerts.public(alert) if alert is not None else None
    client.hdel(HOLDING, key)
    if cleared is not None:
        log.info("alert cleared: %s", key)
    return cleared


def _rebuild(client: redis.Redis, engine: Engine) -> None:
    with session_scope(engine) as session:
        holding = alerts.holding_keys(session=session)
    pipe = client.pipeline(transaction=True)
    pipe.delete(HOLDING)
    if holding:
        pipe.hset(HOLDING, mapping={key: str(value) for key, value in holding.items()})
    pipe.execute()
