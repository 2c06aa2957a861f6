"""Alerts for supervisors: the rules that raise them from the floor, and their records.

An alert is raised once when its condition starts, cleared (`cleared_at`) when the condition
ends, and stays **open** until a supervisor acknowledges it — cleared or not, so nothing that
happened while nobody looked slips off the wallboard. There is at most one open alert per kind
and queue: a condition that returns before anyone acknowledged its alert raises that alert
again (not cleared any more, the new figures); after the acknowledgement it is a new alert.
The rules (README, "Alerts"):

- `service_level`: a queue's SL over the last 15 minutes below its target, once enough calls
  count in it (answered, or abandoned after T) for the rate to mean something;
- `long_wait`: a caller in the queue has waited longer than the limit;
- `no_agents`: callers wait and no agent with the queue's skill is signed in (any state but
  offline).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml
from sqlalchemy import func, update
from sqlmodel import Session, col, select

from hotline.settings import Settings
from routing.config import RoutingConfig
from routing.floor import SL_WINDOW_MINUTES, Floor, QueueNow, sl_calls
from routing.models import Alert, AlertKind, AlertPublic

MESSAGES_PATH = Path(__file__).with_name("alert_messages.yaml")
AlertState = Literal["open", "all"]


# --- the rules -------------------------------------------------------------------------------


@dataclass(frozen=True)
class AlertRules:
    service_level_seconds: int
    targets: Mapping[str, float]  # per queue
    min_calls: int
    long_wait_seconds: int

    @classmethod
    def of(cls, settings: Settings, config: RoutingConfig) -> AlertRules:
        return cls(
            service_level_seconds=config.service_level_seconds,
            targets={
                name: queue.service_level_target or settings.service_level_target
                for name, queue in config.queues.items()
            },
            min_calls=settings.alert_service_level_min_calls,
            long_wait_seconds=settings.alert_long_wait_seconds,
        )


@dataclass(frozen=True)
class Condition:
    """A rule that holds now for a queue, with the figures that make it hold."""

    kind: AlertKind
    queue: str
    details: dict[str, Any]

    @property
    def key(self) -> str:
        return f"{self.kind.value}:{self.queue}"


def conditions(floor: Floor, rules: AlertRules) -> list[Condition]:
    """Every rule that holds on the floor now."""
    held = []
    for queue, now in floor.queues.items():
        held += _queue_conditions(queue, now, rules)
    return held


def _queue_conditions(queue: str, now: QueueNow, rules: AlertRules) -> list[Condition]:
    held = []
    c, level, target = now.last_15_minutes, now.service_level, rules.targets[queue]
    if level is not None and sl_calls(c) >= rules.min_calls and level < target:
        details = {
            "service_level": level,
            "target": target,
            "calls": int(sl_calls(c)),
            "offered": int(c.offered),
            "answered": int(c.answered),
            "answered_within_sl": int(c.answered_in_sl),
            "abandoned_after_sl": int(c.abandoned_after_sl),
            "window_minutes": SL_WINDOW_MINUTES,
            "service_level_seconds": rules.service_level_seconds,
        }
        held.append(Condition(AlertKind.service_level, queue, details))
    if now.waiting and now.longest_wait > rules.long_wait_seconds:
        details = {
            "longest_wait_seconds": round(now.longest_wait, 1),
            "limit_seconds": rules.long_wait_seconds,
            "waiting": now.waiting,
        }
        held.append(Condition(AlertKind.long_wait, queue, details))
    if now.waiting and now.signed_in == 0:
        details = {"waiting": now.waiting, "longest_wait_seconds": round(now.longest_wait, 1)}
        held.append(Condition(AlertKind.no_agents, queue, details))
    return held


# --- what an alert says ----------------------------------------------------------------------


@dataclass(frozen=True)
class AlertMessages:
    queue_names: Mapping[str, Mapping[str, str]]
    templates: Mapping[str, Mapping[str, str]]

    def render(self, condition: Condition) -> tuple[str, str]:
        """(Chinese, English)."""
        names = self.queue_names.get(condition.queue, {})
        texts = []
        for language in ("zh", "en"):
            template = self.templates[condition.kind.value][language]
            name = names.get(language, condition.queue)
            texts.append(template.format(queue_name=name, **condition.details)[:300])
        return texts[0], texts[1]


@lru_cache(maxsize=2)
def load_messages(path: Path = MESSAGES_PATH) -> AlertMessages:
    """The messages file, checked: every kind in both languages."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    templates = raw["messages"]
    for kind in AlertKind:
        for language in ("zh", "en"):
            if not isinstance(templates.get(kind.value, {}).get(language), str):
                raise ValueError(f"{path}: messages.{kind.value}.{language} is missing")
    return AlertMessages(queue_names=raw.get("queue_names") or {}, templates=templates)


# --- records ---------------------------------------------------------------------------------


def public(alert: Alert) -> AlertPublic:
    return AlertPublic.model_validate(alert)


def raise_alert(
    *, session: Session, condition: Condition, messages: AlertMessages, now: datetime
) -> tuple[Alert, bool]:
    """The alert for a condition that holds: (the alert, whether this call raised it).

    One already holding (acknowledged or not) stays as it is; an open one that had cleared is
    raised again with the new figures; else a new one, whose flush fails (IntegrityError) if
    another heartbeat raised it at the same moment."""
    holding = session.exec(
        select(Alert).where(
            Alert.kind == condition.kind,
            Alert.queue == condition.queue,
            col(Alert.cleared_at).is_(None),
        )
    ).first()
    if holding is not None:
        return holding, False
    zh, en = messages.render(condition)
    alert = session.exec(select(Alert).where(Alert.open_key == condition.key)).first()
    if alert is None:
        alert = Alert(kind=condition.kind, queue=condition.queue, raised_at=now,
                      message_zh=zh, message_en=en, open_key=condition.key)  # fmt: skip
    alert.cleared_at = None
    alert.message_zh, alert.message_en = zh, en
    alert.details = condition.details
    session.add(alert)
    session.flush()
    return alert, True


def holding_keys(*, session: Session) -> dict[str, int]:
    """The alerts whose condition still holds, by "<kind>:<queue>"."""
    rows = session.exec(
        select(Alert.kind, Alert.queue, Alert.id).where(col(Alert.cleared_at).is_(None))
    )
    return {f"{kind}:{queue}": alert_id for kind, queue, alert_id in rows if alert_id is not None}


def clear_alert(*, session: Session, alert_id: int, now: datetime) -> Alert | None:
    """Mark the condition over; None when it was cleared already (by this or another worker)."""
    result = session.exec(
        update(Alert)
        .where(col(Alert.id) == alert_id, col(Alert.cleared_at).is_(None))
        .values(cleared_at=now)
    )
    if result.rowcount == 0:
        return None
    return session.get(Alert, alert_id, populate_existing=True)


def acknowledge(
    *, session: Session, alert_id: int, agent_id: int | None, now: datetime
) -> tuple[Alert | None, bool]:
    """(the alert, whether this call acknowledged it); a second acknowledgement keeps the first.
    Acknowledged, it is closed: the condition starting again later raises a new alert."""
    result = session.exec(
        update(Alert)
        .where(col(Alert.id) == alert_id, col(Alert.acknowledged_at).is_(None))
        .values(acknowledged_at=now, acknowledged_by=agent_id, open_key=None)
    )
    return session.get(Alert, alert_id, populate_existing=True), result.rowcount > 0


def list_alerts(*, session: Session, state: AlertState, limit: int) -> list[Alert]:
    """Newest first; `open` = not acknowledged yet."""
    query = select(Alert)
    if state == "open":
        query = query.where(col(Alert.acknowledged_at).is_(None))
    query = query.order_by(col(Alert.raised_at).desc(), col(Alert.id).desc()).limit(limit)
    return list(session.exec(query).all())


def open_counts(*, session: Session) -> dict[str, int]:
    """Alerts not acknowledged yet, by kind (every kind, zeros included)."""
    rows = session.exec(
        select(Alert.kind, func.count())
        .where(col(Alert.acknowledged_at).is_(None))
        .group_by(col(Alert.kind))
    )
    counts = {kind.value: 0 for kind in AlertKind}
    for kind, count in rows:
        counts[str(kind)] = int(count)
    return counts
