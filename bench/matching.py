"""Routing cost: "call arrives -> agent chosen" and "agent available -> call offered".

    python bench/matching.py                 # Redis at 127.0.0.1:6379 db 14, else an embedded one
    python bench/matching.py --redis-url redis://host:6379/5 --samples 2000

Each figure is one Lua run of the router, timed from Python (one round trip included), for
10, 1,000 and 10,000 agents, with no callers waiting and with 50,000 waiting. The point: the
cost must not grow with the number of waiting callers.
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import UTC, datetime, timedelta

import redis
from local_redis import redis_url

from routing.config import load_routing
from routing.engine import SyncRouter
from routing.router_types import AgentProfile

SKILLS = ["cards", "transactions", "accounts", "loans", "complaints", "general"]
T0 = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def profile(agent_id: int, rng: random.Random) -> AgentProfile:
    skills = {skill: rng.randint(1, 10) for skill in rng.sample(SKILLS, 3)}
    skills["cards"] = rng.randint(5, 10)  # everyone can take the measured cards calls
    return AgentProfile(
        agent_id=agent_id, skills=skills, languages=["zh"], contact=f"client:agent_{agent_id}"
    )


def fill_waiting(
    router: SyncRouter, count: int, language: str, queues: list[str], rng: random.Random
) -> None:
    """`count` callers waiting in `queues`, at mixed priorities."""
    for n in range(count):
        router.arrive(
            call_sid=f"CAwait{n:027d}",
            queue=rng.choice(queues),
            language=language,
            priority=rng.choice([1, 2, 3, 3, 3, 4]),
            enqueued_at=at(n * 0.001),
            now=at(n * 0.001),
        )


def fresh(client: redis.Redis) -> SyncRouter:
    client.flushdb()
    router = SyncRouter(client, load_routing())
    router.configure()
    return router


def time_arrivals(router: SyncRouter, samples: int) -> list[float]:
    """`arrive` with agents free; each chosen agent is released again, untimed."""
    timings = []
    for n in range(samples):
        sid, now = f"CAarrive{n:026d}", at(1_000 + n)
        started = time.perf_counter()
        placement = router.arrive(
            call_sid=sid, queue="cards", language="zh", priority=3, enqueued_at=now, now=now
        )
        timings.append((time.perf_counter() - started) * 1e6)
        assert placement.state == "offered", placement
        router.call_gone(call_sid=sid, now=now)
    return timings


def time_agent_ready(router: SyncRouter, agents: list[AgentProfile], samples: int) -> list[float]:
    """`agent_ready` with callers waiting for them; each offered call is then answered and ended."""
    timings = []
    for n in range(samples):
        agent, now = agents[n % len(agents)], at(100_000 + n)
        started = time.perf_counter()
        outcome = router.agent_ready(agent=agent, now=now)
        timings.append((time.perf_counter() - started) * 1e6)
        assert outcome.offered_call, outcome
        router.offer_result(
            call_sid=outcome.offered_call, agent_id=agent.agent_id, outcome="answered", now=now
        )
        router.call_gone(call_sid=outcome.offered_call, now=now)
    return timings


def run(client: redis.Redis, samples: int, waiting_calls: int) -> None:
    rng = random.Random(7)
    print("µs per router operation, one Redis round trip included")
    print(
        f"{'agents':>7} {'waiting':>8} | {'arrive→chosen p50':>17} {'p99':>6}"
        f" | {'available→offered p50':>21} {'p99':>6}"
    )
    for agent_count in (10, 1_000, 10_000):
        agents = [profile(n + 1, rng) for n in range(agent_count)]
        for waiting in (0, waiting_calls):
            # Call arrives -> agent chosen: every agent free; the waiting callers speak a
            # language none of them does, so they stay in the sorted sets the script reads.
            router = fresh(client)
            for agent in agents:
                router.agent_ready(agent=agent, now=at(0))
            fill_waiting(router, waiting, "en", list(router.config.queues), rng)
            arrivals = time_arrivals(router, samples)
            # Agent available -> call offered: callers waiting that every agent may take.
            router = fresh(client)
            fill_waiting(router, max(waiting, samples), "zh", ["cards"], rng)
            ready = time_agent_ready(router, agents, samples)
            print(
                f"{agent_count:>7} {waiting:>8} | {percentile(arrivals, 0.5):>17.0f}"
                f" {percentile(arrivals, 0.99):>6.0f} | {percentile(ready, 0.5):>21.0f}"
                f" {percentile(ready, 0.99):>6.0f}"
            )
    print(f"Redis {client.info('server').get('redis_version')}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--redis-url", help="default: 127.0.0.1:6379 db 14 if reachable, else embedded"
    )
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--waiting", type=int, default=50_000)
    args = parser.parse_args()
    with redis_url(args.redis_url, db=14) as url:
        client = redis.Redis.from_url(url)
        try:
            run(client, args.samples, args.waiting)
        finally:
            client.flushdb()


if __name__ == "__main__":
    main()
