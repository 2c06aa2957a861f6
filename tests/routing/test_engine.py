"""The router on real Redis: who gets which call, in what order, and never two at once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import redis
import yaml

from routing.config import DEFAULT_PATH, RoutingConfig, Strategy, load_routing, parse_routing
from routing.engine import SyncRouter
from routing.router_types import AgentProfile, Placement

T0 = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def make_router(client: redis.Redis, **changes: object) -> SyncRouter:
    config = load_routing()
    if changes:
        config = RoutingConfig.model_validate({**config.model_dump(), **changes})
    router = SyncRouter(client, config)
    router.configure()
    return router


@pytest.fixture
def router(redis_client: redis.Redis) -> Iterator[SyncRouter]:
    yield make_router(redis_client)


def agent(agent_id: int, languages: tuple[str, ...] = ("zh",), **skills: int) -> AgentProfile:
    return AgentProfile(
        agent_id=agent_id,
        skills=skills,
        languages=list(languages),
        contact=f"client:agent_{agent_id}",
    )


def arrive(
    router: SyncRouter,
    sid: str,
    queue: str = "cards",
    *,
    when: float = 0,
    priority: int = 3,
    language: str = "zh",
    sticky: int | None = None,
) -> Placement:
    return router.arrive(
        call_sid=sid, queue=queue, language=language, priority=priority,
        enqueued_at=at(when), now=at(when), sticky_agent_id=sticky,
    )  # fmt: skip


def test_a_call_goes_straight_to_a_qualified_available_agent(router: SyncRouter) -> None:
    assert router.agent_ready(agent=agent(1, cards=8), now=at(0)).state == "available"
    placement = arrive(router, "CA1", when=1)
    assert placement.state == "offered" and placement.agent_id == 1
    assert router.agent_state(1)["state"] == "reserved"


def test_no_agent_is_offered_two_calls(router: SyncRouter) -> None:
    router.agent_ready(agent=agent(1, cards=8), now=at(0))
    assert arrive(router, "CA1", when=1).agent_id == 1
    second = arrive(router, "CA2", when=2)
    assert second.state == "waiting" and second.agent_id is None


def test_a_repeated_arrival_changes_nothing(router: SyncRouter) -> None:
    router.agent_ready(agent=agent(1, cards=8), now=at(0))
    router.agent_ready(agent=agent(2, cards=8), now=at(0))
    first = arrive(router, "CA1", when=1)
    again = arrive(router, "CA1", when=2)
    assert again.state == "offered" and again.agent_id == first.agent_id
    assert router.agent_state(2 if first.agent_id == 1 else 1)["state"] == "available"


def test_level_too_low_waits_until_the_escalation_step(router: SyncRouter) -> None:
    router.agent_ready(agent=agent(1, cards=3), now=at(0))
    waiting = arrive(router, "CA1", when=0)
    assert waiting.state == "waiting" and waiting.next_step_in == 30
    assert router.escalate(call_sid="CA1", now=at(10)).state == "waiting"
    escalated = router.escalate(call_sid="CA1", now=at(30))
    assert escalated.state == "offered" and escalated.agent_id == 1


def test_overflow_keeps_the_original_place(router: SyncRouter) -> None:
    router.agent_ready(agent=agent(9, general=1), now=at(0))
    router.agent_ready(agent=agent(8, cards=1), now=at(0))
    router.agent_away(agent_id=8, state="break", reason="lunch", now=at(1))
    arrive(router, "CA-old", when=0)
    # Meanwhile the general agent is busy with a general call; a newer general call waits.
    router.agent_away(agent_id=9, state="break", reason="coffee", now=at(1))
    arrive(router, "CA-new", "general", when=100)
    overflowed = router.escalate(call_sid="CA-old", now=at(180))
    assert overflowed.state == "waiting" and overflowed.queue == "general"
    outcome = router.agent_ready(agent=agent(9, general=1), now=at(181))
    assert outcome.offered_call == "CA-old"  # it arrived first, so it is served first


def test_longest_idle_agent_gets_the_call(router: SyncRouter) -> None:
    router.agent_ready(agent=agent(1, cards=9), now=at(5))
    router.agent_ready(agent=agent(2, cards=6), now=at(1))
    assert arrive(router, "CA1", when=10).agent_id == 2


def test_most_skilled_strategy(redis_client: redis.Redis) -> None:
    router = make_router(redis_client, strategy=Strategy.most_skilled)
    router.agent_ready(agent=agent(1, cards=9), now=at(5))
    router.agent_ready(agent=agent(2, cards=6), now=at(1))
    assert arrive(router, "CA1", when=10).agent_id == 1


def test_fewest_calls_strategy(redis_client: redis.Redis) -> None:
    router = make_router(redis_client, strategy=Strategy.fewest_calls)
    busy = AgentProfile(
        agent_id=1, skills={"cards": 8}, languages=["zh"], contact="c", calls_today=12
    )
    quiet = AgentProfile(
        agent_id=2, skills={"cards": 8}, languages=["zh"], contact="c", calls_today=3
    )
    router.agent_ready(agent=busy, now=at(1))
    router.agent_ready(agent=quiet, now=at(5))
    assert arrive(router, "CA1", when=10).agent_id == 2


def test_priority_first_then_longest_waiting(router: SyncRouter) -> None:
    arrive(router, "CA-p3-early", when=0, priority=3)
    arrive(router, "CA-p3-late", when=20, priority=3)
    arrive(router, "CA-lost-card", when=25, priority=1)
    order = []
    for n in range(3):
        outcome = router.agent_ready(agent=agent(10 + n, cards=9), now=at(30 + n))
        order.append(outcome.offered_call)
    assert order == ["CA-lost-card", "CA-p3-early", "CA-p3-late"]


def test_aging_lets_a_long_waiting_low_priority_caller_through(router: SyncRouter) -> None:
    arrive(router, "CA-p4-waited", "general", when=0, priority=4)
    arrive(router, "CA-p3-new", "general", when=400, priority=3)
    # P4 is ordered 120 s later than it came, P3 at its time: 120 < 400, so P4 goes first.
    assert router.agent_ready(agent=agent(1, general=5), now=at(401)).offered_call == "CA-p4-waited"


def test_sticky_agent_gets_their_customer_back(router: SyncRouter) -> None:
    router.agent_ready(agent=agent(1, cards=8), now=at(0))
    router.agent_ready(agent=agent(2, cards=8), now=at(5))
    assert arrive(router, "CA1", when=10, sticky=2).agent_id == 2


def test_no_answer_goes_to_the_next_agent_and_keeps_the_place(router: SyncRouter) -> None:
    router.agent_ready(agent=agent(1, cards=8), now=at(0))
    assert arrive(router, "CA-first", when=1).agent_id == 1
    arrive(router, "CA-second", when=2)
    missed = router.offer_result(call_sid="CA-first", agent_id=1, outcome="no-answer", now=at(21))
    assert missed.state == "waiting"
    assert router.agent_state(1)["state"] == "missed"
    # The next agent to become free takes the first caller, not the second.
    assert router.agent_ready(agent=agent(2, cards=8), now=at(22)).offered_call == "CA-first"


def test_missed_agent_is_offered_nothing_until_back(router: SyncRouter) -> None:
    router.agent_ready(agent=agent(1, cards=8), now=at(0))
    arrive(router, "CA1", when=1)
    router.offer_result(call_sid="CA1", agent_id=1, outcome="busy", now=at(3))
    assert arrive(router, "CA2", when=4).state == "waiting"
    assert router.agent_ready(agent=agent(1, cards=8), now=at(5)).offered_call == "CA1"


def test_stale_offer_results_change_nothing(router: SyncRouter) -> None:
    router.agent_ready(agent=agent(1, cards=8), now=at(0))
    arrive(router, "CA1", when=1)
    assert (
        router.offer_result(call_sid="CA1", agent_id=1, outcome="answered", now=at(5)).state
        == "connected"
    )
    assert (
        router.offer_result(call_sid="CA1", agent_id=1, outcome="no-answer", now=at(6)).state
        == "stale"
    )
    assert router.agent_state(1)["state"] == "busy"


def test_abandon_while_waiting_removes_the_caller(router: SyncRouter) -> None:
    arrive(router, "CA1", when=0)
    assert router.call_gone(call_sid="CA1", now=at(40)).state == "abandoned"
    assert router.agent_ready(agent=agent(1, cards=8), now=at(41)).state == "available"
    assert router.call_gone(call_sid="CA1", now=at(42)).state == "gone"


def test_abandon_while_ringing_frees_the_agent_for_the_next_caller(router: SyncRouter) -> None:
    router.agent_ready(agent=agent(1, cards=8), now=at(0))
    arrive(router, "CA1", when=1)
    arrive(router, "CA2", when=2)
    gone = router.call_gone(call_sid="CA1", now=at(5))
    assert gone.state == "withdrawn" and gone.agent_id == 1 and gone.next_call == "CA2"
    assert router.agent_state(1)["state"] == "reserved"


def test_talk_end_puts_the_agent_in_wrap_up_then_back(router: SyncRouter) -> None:
    router.agent_ready(agent=agent(1, cards=8), now=at(0))
    arrive(router, "CA1", when=1)
    router.offer_result(call_sid="CA1", agent_id=1, outcome="answered", now=at(4))
    arrive(router, "CA2", when=10)
    ended = router.call_gone(call_sid="CA1", now=at(100))
    assert ended.state == "wrap_up" and ended.agent_id == 1 and ended.since
    assert router.wrap_up_done(agent_id=1, since="1.000", now=at(130)).state == "stale"
    back = router.wrap_up_done(agent_id=1, since=ended.since, now=at(130))
    assert back.state == "offered" and back.offered_call == "CA2"


def test_break_and_offline_take_the_agent_out(router: SyncRouter) -> None:
    router.agent_ready(agent=agent(1, cards=8), now=at(0))
    assert router.agent_away(agent_id=1, state="break", reason="lunch", now=at(1)).state == "break"
    assert arrive(router, "CA1", when=2).state == "waiting"
    router.agent_ready(agent=agent(1, cards=8), now=at(3))
    router.offer_result(call_sid="CA1", agent_id=1, outcome="answered", now=at(4))
    refused = router.agent_away(agent_id=1, state="offline", reason="", now=at(5))
    assert refused.state == "refused"  # not in the middle of a call


def test_languages_are_matched(router: SyncRouter) -> None:
    router.agent_ready(agent=agent(1, ("zh",), cards=8), now=at(0))
    assert arrive(router, "CA-en", when=1, language="en").state == "waiting"
    outcome = router.agent_ready(agent=agent(2, ("en", "zh"), cards=8), now=at(2))
    assert outcome.offered_call == "CA-en"


def test_general_queue_accepts_any_language_after_two_minutes(router: SyncRouter) -> None:
    router.agent_ready(agent=agent(1, ("zh",), general=5), now=at(0))
    assert arrive(router, "CA-en", "general", when=0, language="en").state == "waiting"
    assert router.escalate(call_sid="CA-en", now=at(120)).agent_id == 1


def test_router_config_is_checked() -> None:
    raw = yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8"))
    raw["queues"]["cards"]["steps"][-1]["overflow"] = "nowhere"
    with pytest.raises(ValueError, match="unknown queue 'nowhere'"):
        parse_routing(yaml.safe_dump(raw), source="queues.yaml")


def test_timers_fire_once_when_due(redis_client: redis.Redis) -> None:
    router = make_router(redis_client, ring_timeout_seconds=20, wrap_up_seconds=10)
    router.agent_ready(agent=agent(1, cards=3), now=at(0))
    arrive(router, "CA-esc", when=0)  # needs level 5 until the 30 s step
    assert router.tick(now=at(29)) == (0, [])
    assert router.tick(now=at(30)) == (1, [("CA-esc", 1)])  # offered: to be pushed
    assert router.tick(now=at(30)) == (0, [])
    # Nobody reports on the offer: after ring time + grace it is taken back.
    assert router.tick(now=at(30 + 20 + 29))[0] == 0
    fired, pushes = router.tick(now=at(30 + 20 + 30))
    assert fired == 1 and pushes == []
    assert router.agent_state(1)["state"] == "missed"
    assert router.call_state("CA-esc")["state"] == "waiting"


def test_wrap_up_ends_by_the_timer_or_at_once(redis_client: redis.Redis) -> None:
    router = make_router(redis_client, wrap_up_seconds=10)
    router.agent_ready(agent=agent(1, cards=8), now=at(0))
    arrive(router, "CA1", when=1)
    router.offer_result(call_sid="CA1", agent_id=1, outcome="answered", now=at(2))
    router.call_gone(call_sid="CA1", now=at(50))
    arrive(router, "CA2", when=55)
    assert router.tick(now=at(59))[1] == []  # only the answered offer's spent expiry fired
    assert router.agent_state(1)["state"] == "wrap_up"
    assert router.tick(now=at(60)) == (1, [("CA2", 1)])
    instant = make_router(redis_client, wrap_up_seconds=0)
    instant.offer_result(call_sid="CA2", agent_id=1, outcome="answered", now=at(61))
    arrive(instant, "CA3", when=62)
    gone = instant.call_gone(call_sid="CA2", now=at(90))
    assert gone.state == "wrap_up" and gone.next_call == "CA3"
