"""The charts' history: one sample of the floor per minute, kept a day in Redis.

The first heartbeat in a minute writes the minute's sample (SET NX on the minute's key), so
several heartbeats write it once; the key expires after a day, so the history caps itself.
A sample holds, per queue and overall, the callers waiting and the longest wait at that
moment, the service level over the 15 minutes up to it, and the calls offered, answered and
abandoned in the minute before it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import redis

from routing.floor import Floor, QueueNow
from routing.stats_figures import as_text
from routing.stats_models import History, HistoryPoint

P = "{rt}:history:"
INTERVAL_SECONDS = 60
KEEP_MINUTES = 24 * 60
_TTL_SECONDS = (KEEP_MINUTES + 5) * 60


def _figures(now: QueueNow) -> dict[str, object]:
    minute = now.last_minute
    return {
        "waiting": now.waiting,
        "longest_wait_seconds": round(now.longest_wait, 1),
        "service_level": now.service_level,
        "offered": int(minute.offered),
        "answered": int(minute.answered),
        "abandoned": int(minute.abandoned),
    }


def sample(client: redis.Redis, floor: Floor) -> bool:
    """Keep this minute's sample unless one is kept already; whether this call kept it."""
    point = {
        "at": datetime.fromtimestamp(floor.minute * 60, UTC).isoformat(),
        "overall": _figures(floor.overall),
        "queues": {queue: _figures(now) for queue, now in floor.queues.items()},
    }
    return bool(client.set(f"{P}{floor.minute}", json.dumps(point), nx=True, ex=_TTL_SECONDS))


def read(client: redis.Redis, *, now: datetime, minutes: int) -> History:
    """The samples of the last `minutes` minutes (this one included), oldest first; minutes
    no heartbeat sampled are left out."""
    current = int(now.timestamp() // 60)
    keys = [f"{P}{minute}" for minute in range(current - minutes + 1, current + 1)]
    points = [HistoryPoint.model_validate_json(as_text(raw)) for raw in client.mget(keys) if raw]
    return History(interval_seconds=INTERVAL_SECONDS, points=points)
