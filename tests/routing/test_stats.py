"""The live figures: counters the router keeps as events happen, read back and defined."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import redis

from routing.engine import SyncRouter
from routing.stats import StatsReader
from routing.stats_models import Figures, QueueFigures, SupervisorStats
from tests.routing.test_engine import agent, arrive, at, make_router


@pytest.fixture
def router(redis_client: redis.Redis) -> Iterator[SyncRouter]:
    yield make_router(redis_client)


def read(router: SyncRouter, client: redis.Redis, seconds: float) -> SupervisorStats:
    return StatsReader(client, router.config, sl_target=0.8).read(now=at(seconds))


def queue(stats: SupervisorStats, name: str) -> QueueFigures:
    return next(q for q in stats.queues if q.queue == name)


def a_busy_morning(router: SyncRouter) -> None:
    """Two agents on cards; six callers: two answered (one late), a short and two real
    abandons, one offer let ring out. Every figure below is worked out by hand from it."""
    router.agent_ready(agent=agent(1, cards=8), now=at(0))
    router.agent_ready(agent=agent(2, cards=8), now=at(0))
    assert arrive(router, "CA1", when=10).agent_id == 1
    router.offer_result(call_sid="CA1", agent_id=1, outcome="answered", now=at(14))  # wait 4
    assert arrive(router, "CA2", when=20).agent_id == 2
    router.offer_result(call_sid="CA2", agent_id=2, outcome="answered", now=at(50))  # wait 30
    assert arrive(router, "CA3", when=60).state == "waiting"
    assert router.call_gone(call_sid="CA3", now=at(62)).state == "abandoned"  # short: 2 s
    arrive(router, "CA4", when=70)
    router.call_gone(call_sid="CA4", now=at(100))  # 30 s: after the service level's 20 s
    arrive(router, "CA5", when=110)
    router.call_gone(call_sid="CA5", now=at(120))  # 10 s: abandoned, within 20 s
    assert router.call_gone(call_sid="CA1", now=at(134)).state == "wrap_up"  # talk 120
    arrive(router, "CA6", when=150)
    # Agent 1's 30 s wrap-up ends and CA6 is offered to them, who lets it ring out.
    since = f"{at(134).timestamp():.3f}"  # the wrap-up is named by the `since` stored
    assert router.wrap_up_done(agent_id=1, since=since, now=at(164)).state == "offered"
    router.offer_result(call_sid="CA6", agent_id=1, outcome="no-answer", now=at(170))


def test_cumulative_figures_follow_the_definitions(
    router: SyncRouter, redis_client: redis.Redis
) -> None:
    a_busy_morning(router)
    stats = read(router, redis_client, 180)
    cards = queue(stats, "cards")
    expected = Figures(
        offered=6,
        answered=2,
        abandoned=2,
        short_abandons=1,
        answered_within_sl=1,
        abandoned_after_sl=1,
        handled=1,
        missed_offers=1,
        service_level=0.3333,  # 1 / (2 answered + 1 abandoned after 20 s)
        asa_seconds=17.0,  # (4 + 30) / 2
        aht_seconds=150.0,  # (120 talk + 30 wrap-up) / 1
        abandon_rate=0.4,  # 2 / (6 offered - 1 short)
        occupancy=None,
        longest_wait_seconds=30.0,
        talk_seconds=120.0,
        wrap_up_seconds=30.0,
        callbacks_placed=None,
    )
    assert cards.today == expected
    # Everything happened within the last three minutes: every window holds all of it.
    for window in ("last_15_minutes", "last_30_minutes", "last_60_minutes"):
        assert getattr(cards, window) == expected
    # Overall adds occupancy: agent 1 was available 10 s, talked 120, wrapped up 30; agent 2
    # was available 20 s and has talked 130 s so far. (120 + 130 + 30) / (... + 30).
    assert stats.overall.today == expected.model_copy(update={"occupancy": 0.9032})


def test_real_time_figures_per_queue_and_overall(
    router: SyncRouter, redis_client: redis.Redis
) -> None:
    a_busy_morning(router)
    stats = read(router, redis_client, 180)
    cards = queue(stats, "cards")
    assert cards.waiting == 1
    assert cards.longest_wait_seconds == 30.0
    # (1 waiting + 1) × 150 s AHT / 1 agent staffed (agent 2, busy; agent 1 missed).
    assert cards.expected_wait_seconds == 300.0
    assert cards.agents == {
        "available": 0, "reserved": 0, "busy": 1, "wrap_up": 0,
        "break": 0, "missed": 1, "offline": 0,
    }  # fmt: skip
    general = queue(stats, "general")
    assert general.waiting == 0 and general.expected_wait_seconds is None
    assert sum(general.agents.values()) == 0
    assert stats.overall.waiting == 1 and stats.overall.agents["busy"] == 1
    assert stats.day.isoformat() == "2026-11-24"


def test_per_agent_figures(router: SyncRouter, redis_client: redis.Redis) -> None:
    a_busy_morning(router)
    first, second = read(router, redis_client, 180).agents
    assert (first.agent_id, first.state, first.since) == (1, "missed", at(170))
    assert (first.handled, first.talk_seconds, first.wrap_up_seconds) == (1, 120.0, 30.0)
    assert (first.missed_offers, first.aht_seconds) == (1, 150.0)
    assert (second.agent_id, second.state, second.since) == (2, "busy", at(50))
    assert (second.handled, second.aht_seconds) == (0, None)


def test_rolling_windows_hold_only_their_minutes(
    router: SyncRouter, redis_client: redis.Redis
) -> None:
    router.agent_ready(agent=agent(1, cards=8), now=at(0))
    arrive(router, "CA1", when=0)
    router.offer_result(call_sid="CA1", agent_id=1, outcome="answered", now=at(0))
    router.call_gone(call_sid="CA1", now=at(1200))  # 20 minutes of talk
    router.wrap_up_done(agent_id=1, since=f"{at(1200).timestamp():.3f}", now=at(1230))
    stats = read(router, redis_client, 1800)  # 02:30:00 UTC: minute 30 of the hour
    overall = stats.overall
    assert (overall.today.offered, overall.today.handled) == (1, 1)
    assert (overall.last_60_minutes.offered, overall.last_60_minutes.handled) == (1, 1)
    # The 30-minute window starts at 02:01:00, after the arrival; the talk ended inside it.
    assert (overall.last_30_minutes.offered, overall.last_30_minutes.handled) == (0, 1)
    assert (overall.last_15_minutes.offered, overall.last_15_minutes.handled) == (0, 1)
    # Occupancy counts each window's share of the states: from 02:16:00, 240 s of talk, 30 s
    # wrap-up, 570 s available (still going on) → 270 / 840.
    assert overall.last_15_minutes.occupancy == 0.3214
    assert overall.last_30_minutes.occupancy == 0.6724  # (1140 + 30) / (1140 + 30 + 570)
    assert overall.last_60_minutes.occupancy == 0.6833  # (1200 + 30) / 1800
    assert overall.today.occupancy == 0.6833


def test_a_day_is_the_banks_day_across_midnight_in_shanghai(
    router: SyncRouter, redis_client: redis.Redis
) -> None:
    midnight = datetime(2026, 11, 24, 16, 0, tzinfo=UTC)  # 00:00 on the 25th in Shanghai

    def t(seconds: float) -> datetime:
        return midnight + timedelta(seconds=seconds)

    router.agent_ready(agent=agent(1, cards=8), now=t(-120))
    router.arrive(call_sid="CA1", queue="cards", language="zh", priority=3,
                  enqueued_at=t(-30), now=t(-30))  # fmt: skip
    router.offer_result(call_sid="CA1", agent_id=1, outcome="answered", now=t(-20))
    router.call_gone(call_sid="CA1", now=t(40))  # talk 60 s, 20 before midnight
    stats = StatsReader(redis_client, router.config, sl_target=0.8).read(now=t(40))
    assert stats.day.isoformat() == "2026-11-25"
    today = stats.overall.today
    # Offered and answered yesterday; the talk ended today, so the handled call counts today.
    assert (today.offered, today.answered, today.handled, today.talk_seconds) == (0, 0, 1, 60.0)
    # Occupancy splits the talk at midnight: 40 s today, nobody available since.
    assert today.occupancy == 1.0
    yesterday = redis_client.hgetall("{rt}:stats:day:20261124:cards")
    assert (yesterday[b"offered"], yesterday[b"answered"]) == (b"1", b"1")
    time_yesterday = redis_client.hgetall("{rt}:stats:occ:day:20261124")
    assert (time_yesterday[b"available"], time_yesterday[b"busy"]) == (b"90", b"20")


def test_an_offer_withdrawn_by_a_hang_up_counts_as_an_abandon(
    router: SyncRouter, redis_client: redis.Redis
) -> None:
    router.agent_ready(agent=agent(1, cards=8), now=at(0))
    arrive(router, "CA1", when=0)
    router.call_gone(call_sid="CA1", now=at(25))  # rang 25 s at the agent, then hung up
    today = read(router, redis_client, 30).overall.today
    assert (today.abandoned, today.abandoned_after_sl, today.answered) == (1, 1, 0)
    assert today.service_level == 0.0


def test_a_call_counts_in_the_queue_it_entered_after_an_overflow(
    router: SyncRouter, redis_client: redis.Redis
) -> None:
    router.agent_ready(agent=agent(9, general=1), now=at(0))
    router.agent_away(agent_id=9, state="break", reason="coffee", now=at(1))
    arrive(router, "CA1", when=0)
    router.escalate(call_sid="CA1", now=at(180))  # overflows to general
    stats = read(router, redis_client, 190)
    cards, general = queue(stats, "cards"), queue(stats, "general")
    # Waiting is where the caller is now; the counts stay with the queue they called.
    assert (cards.waiting, general.waiting) == (0, 1)
    assert general.longest_wait_seconds == 190.0
    router.agent_ready(agent=agent(9, general=1), now=at(200))
    router.offer_result(call_sid="CA1", agent_id=9, outcome="answered", now=at(205))
    stats = read(router, redis_client, 210)
    assert queue(stats, "cards").today.answered == 1
    assert queue(stats, "general").today.offered == 0
    assert queue(stats, "general").waiting == 0


def test_fractions_of_a_second_add_up_with_whole_ones(
    router: SyncRouter, redis_client: redis.Redis
) -> None:
    router.agent_ready(agent=agent(1, cards=8), now=at(0))
    for n, (arrival, answer) in enumerate([(0.25, 1.5), (40, 42)]):
        arrive(router, f"CA{n}", when=arrival)
        router.offer_result(call_sid=f"CA{n}", agent_id=1, outcome="answered", now=at(answer))
        router.call_gone(call_sid=f"CA{n}", now=at(answer + 2.5))
        router.wrap_up_done(agent_id=1, since=f"{at(answer + 2.5).timestamp():.3f}",
                            now=at(answer + 32.5))  # fmt: skip
    today = read(router, redis_client, 100).overall.today
    assert (today.answered, today.asa_seconds, today.talk_seconds) == (
        2,
        1.6,
        5.0,
    )  # (1.25 + 2) / 2
