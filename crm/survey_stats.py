"""CSAT counters in Redis, written when a score lands, read with the live figures.

Kept beside the router's counters (same `{rt}` hash tag, same day/minute buckets) but in
their own hashes, so the router's Lua scripts know nothing of surveys:
`{rt}:stats:csat:day:<YYYYMMDD>` (bank-local day, kept 8 days) and
`{rt}:stats:csat:min:<UTC epoch minute>` (kept 2 hours), each with `responses`, `score_sum`
and `satisfied` (scores 4-5).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import redis

P = "{rt}:stats:csat:"
DAY_TTL = 8 * 24 * 3600
MINUTE_TTL = 2 * 3600
SATISFIED = (4, 5)


@dataclass(frozen=True)
class CsatCounts:
    responses: int = 0
    score_sum: int = 0
    satisfied: int = 0

    def plus(self, other: CsatCounts) -> CsatCounts:
        return CsatCounts(
            self.responses + other.responses,
            self.score_sum + other.score_sum,
            self.satisfied + other.satisfied,
        )


def _day_key(moment: datetime, zone: ZoneInfo) -> str:
    return f"{P}day:{moment.astimezone(zone).strftime('%Y%m%d')}"


def _minute_key(minute: int) -> str:
    return f"{P}min:{minute}"


def record_score(client: redis.Redis, *, score: int, at: datetime, zone: ZoneInfo) -> None:
    """Count one survey score in its bank-local day and its UTC minute."""
    satisfied = 1 if score in SATISFIED else 0
    pipe = client.pipeline(transaction=True)
    for key, ttl in (
        (_day_key(at, zone), DAY_TTL),
        (_minute_key(int(at.timestamp() // 60)), MINUTE_TTL),
    ):
        pipe.hincrby(key, "responses", 1)
        pipe.hincrby(key, "score_sum", score)
        pipe.hincrby(key, "satisfied", satisfied)
        pipe.expire(key, ttl)
    pipe.execute()


def _counts(raw: dict[bytes, bytes]) -> CsatCounts:
    def number(name: str) -> int:
        return int(raw.get(name.encode(), b"0"))

    return CsatCounts(number("responses"), number("score_sum"), number("satisfied"))


def read_counts(
    client: redis.Redis, *, now: datetime, zone: ZoneInfo, windows: Sequence[int]
) -> tuple[CsatCounts, dict[int, CsatCounts]]:
    """Today's counts and each rolling window's (the current minute and the ones before it,
    `n` in all), in one round trip."""
    minute = int(now.timestamp() // 60)
    longest = max(windows, default=0)
    pipe = client.pipeline(transaction=False)
    pipe.hgetall(_day_key(now, zone))
    for back in range(longest):
        pipe.hgetall(_minute_key(minute - back))
    replies = pipe.execute()
    today = _counts(replies[0])
    by_minute = [_counts(raw) for raw in replies[1:]]
    per_window = {}
    for n in windows:
        total = CsatCounts()
        for counts in by_minute[:n]:
            total = total.plus(counts)
        per_window[n] = total
    return today, per_window
