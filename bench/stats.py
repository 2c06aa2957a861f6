"""The cost of the live figures: `GET /api/supervisor/stats` with 10 and 50,000 callers waiting.

    python bench/stats.py                    # Redis at 127.0.0.1:6379 db 15, else an embedded one
    python bench/stats.py --redis-url redis://host:6379/5 --samples 300

The app runs in-process (TestClient, SQLite in a temporary directory) with 40 agents signed
in, a day's worth of calls counted, and then 10 or 50,000 callers waiting. Printed: the whole
request (bearer token check, callbacks query, two Redis round trips, JSON) and the Redis read
alone. The point: the figures are counters, so the cost must not grow with the calls.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import redis
from fastapi.testclient import TestClient
from local_redis import redis_url

from hotline.app import create_app
from hotline.clock import FrozenClock
from hotline.db import migrate
from hotline.settings import Environment, Settings
from routing.engine import SyncRouter
from routing.router_types import AgentProfile
from routing.stats import StatsReader

ADMIN_TOKEN = "bench-admin-token-0123456789abcdef"
QUEUES = ["cards", "transactions", "accounts", "loans", "complaints", "general"]
# 10:00 in Shanghai.
NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def at(seconds: float) -> datetime:
    return NOW + timedelta(seconds=seconds)


def staff_and_history(router: SyncRouter, rng: random.Random) -> None:
    """40 agents; 400 calls over the last hour (answered, ended, abandoned) to fill counters."""
    for agent_id in range(1, 41):
        skills = {queue: rng.randint(1, 10) for queue in rng.sample(QUEUES, 3)}
        profile = AgentProfile(agent_id, skills, ["zh"], f"client:agent_{agent_id}")
        router.agent_ready(agent=profile, now=at(-3600))
    for n in range(400):
        sid, when = f"CAdone{n:028d}", -3600 + n * 9
        placement = router.arrive(call_sid=sid, queue=rng.choice(QUEUES), language="zh",
                                  priority=3, enqueued_at=at(when), now=at(when))  # fmt: skip
        if placement.agent_id is not None and rng.random() < 0.9:
            router.offer_result(call_sid=sid, agent_id=placement.agent_id, outcome="answered",
                                now=at(when + 5))  # fmt: skip
        router.call_gone(call_sid=sid, now=at(when + 8))


def fill_waiting(router: SyncRouter, count: int, rng: random.Random) -> None:
    # Nobody is free for them: every agent takes a break first.
    for agent_id in range(1, 41):
        router.agent_away(agent_id=agent_id, state="break", reason="bench", now=at(-1))
    for n in range(count):
        when = -count * 0.01 + n * 0.01
        router.arrive(call_sid=f"CAwait{n:028d}", queue=rng.choice(QUEUES), language="zh",
                      priority=rng.choice([1, 2, 3, 4]), enqueued_at=at(when),
                      now=at(when))  # fmt: skip


def timed(action: Callable[[], object], samples: int) -> tuple[float, float]:
    timings = []
    for _ in range(samples):
        started = time.perf_counter()
        action()
        timings.append((time.perf_counter() - started) * 1000)
    return percentile(timings, 0.5), percentile(timings, 0.99)


def run(url: str, samples: int, waiting_counts: list[int]) -> None:
    client = redis.Redis.from_url(url)
    database = f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}"
    migrate(database)
    settings = Settings(environment=Environment.test, database_url=database, redis_url=url,
                        admin_token=ADMIN_TOKEN, demo_data=False, twilio_outbox=True)  # fmt: skip
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    print("ms per read of the live figures")
    print(" waiting | GET /api/supervisor/stats p50    p99 | Redis read p50    p99 | bytes")
    for count in waiting_counts:
        client.flushdb()
        with TestClient(create_app(settings, clock=FrozenClock(NOW))) as http:
            router = SyncRouter(client, http.app.state.sync_router.config)  # type: ignore[attr-defined]
            rng = random.Random(7)
            staff_and_history(router, rng)
            fill_waiting(router, count, rng)
            reader = StatsReader(client, router.config, sl_target=0.8)
            response = http.get("/api/supervisor/stats", headers=headers)
            assert response.status_code == 200, response.text
            assert response.json()["overall"]["waiting"] == count
            api = timed(lambda: http.get("/api/supervisor/stats", headers=headers), samples)
            read = timed(lambda reader=reader: reader.read(now=NOW), samples)
            print(f"{count:>8} | {api[0]:>29.2f} {api[1]:>6.2f} | {read[0]:>14.2f} "
                  f"{read[1]:>6.2f} | {len(response.content):>5}")  # fmt: skip
    client.flushdb()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--redis-url", help="default: 127.0.0.1:6379 db 15 if reachable, else embedded"
    )
    parser.add_argument("--samples", type=int, default=300)
    args = parser.parse_args()
    with redis_url(args.redis_url, db=15) as url:
        run(url, args.samples, [10, 50_000])


if __name__ == "__main__":
    main()
