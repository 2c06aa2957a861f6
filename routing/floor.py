"""The floor as the heartbeat sees it each second: the cheap read that alerts and the charts'
history share.

Per queue: callers waiting and the longest wait now, the last 15 minutes' counters (for the
service level) and the last whole minute's; who is signed in with the queue's skill only when
someone waits. Two or three Redis round trips of a fixed number of commands per queue: no
scan of calls, no database.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import redis

from routing.config import RoutingConfig
from routing.stats import STATES
from routing.stats_figures import Counters, as_text, ratio, total

P = "{rt}:"
SL_WINDOW_MINUTES = 15
# Signed in: every state but offline (on a break, or after a missed offer, they can come back).
SIGNED_IN = tuple(state for state in STATES if state != "offline")


@dataclass(frozen=True)
class QueueNow:
    waiting: int
    longest_wait: float
    # The current minute and the 14 before it, as the live figures' `last_15_minutes`.
    last_15_minutes: Counters
    # The minute before the current one: whole by the time the heartbeat looks.
    last_minute: Counters
    # Agents signed in with the queue's skill; None when nobody waits (not read then).
    signed_in: int | None

    @property
    def service_level(self) -> float | None:
        c = self.last_15_minutes
        return ratio(c.answered_in_sl, sl_calls(c))


def sl_calls(counters: Counters) -> float:
    """The calls a service level is made of: answered, or abandoned after T."""
    return counters.answered + counters.abandoned_after_sl


@dataclass(frozen=True)
class Floor:
    at: datetime
    minute: int  # UTC epoch minute of `at`
    queues: Mapping[str, QueueNow]

    @property
    def overall(self) -> QueueNow:
        items = list(self.queues.values())
        return QueueNow(
            waiting=sum(q.waiting for q in items),
            longest_wait=max((q.longest_wait for q in items), default=0.0),
            last_15_minutes=total(q.last_15_minutes for q in items),
            last_minute=total(q.last_minute for q in items),
            signed_in=None,
        )


def read_floor(client: redis.Redis, config: RoutingConfig, now: datetime) -> Floor:
    """The floor as of `now`."""
    minute = int(now.timestamp() // 60)
    minutes = [minute - n for n in range(SL_WINDOW_MINUTES)]
    pipe = client.pipeline(transaction=False)
    for queue in config.queues:
        pipe.zcard(f"{P}waiting:{queue}")
        pipe.zrange(f"{P}waiting:{queue}", 0, 0, withscores=True)
        for m in minutes:
            pipe.hgetall(f"{P}stats:min:{m}:{queue}")
    replies = iter(pipe.execute())
    read: dict[str, tuple[int, float, list[Counters]]] = {}
    for queue in config.queues:
        waiting, head = int(next(replies)), next(replies)
        longest = max(now.timestamp() - float(head[0][1]), 0.0) if head else 0.0
        read[queue] = (waiting, longest, [Counters.of(next(replies)) for _ in minutes])
    skills = _signed_in_skills(client) if any(w for w, _, _ in read.values()) else None
    queues = {
        queue: QueueNow(
            waiting=waiting,
            longest_wait=longest,
            last_15_minutes=total(buckets),
            last_minute=buckets[1],
            signed_in=(
                sum(1 for held in skills if config.queues[queue].skill in held)
                if skills is not None
                else None
            ),
        )
        for queue, (waiting, longest, buckets) in read.items()
    }
    return Floor(at=now, minute=minute, queues=queues)


def _signed_in_skills(client: redis.Redis) -> list[set[str]]:
    """The skills of each agent the router has signed in now."""
    pipe = client.pipeline(transaction=False)
    for state in SIGNED_IN:
        pipe.smembers(f"{P}agents:{state}")
    ids = sorted({as_text(i) for members in pipe.execute() for i in members})
    if not ids:
        return []
    pipe = client.pipeline(transaction=False)
    for agent_id in ids:
        pipe.hget(f"{P}agent:{agent_id}", "skills")
    return [set(json.loads(as_text(raw))) if raw else set() for raw in pipe.execute()]
