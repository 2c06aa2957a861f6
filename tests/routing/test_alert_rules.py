"""The alert rules on a hand-made floor: thresholds, minimum volume, per-queue targets."""

from __future__ import annotations

from datetime import UTC, datetime

from routing.alerts import AlertRules, conditions
from routing.floor import Floor, QueueNow
from routing.stats_figures import Counters

RULES = AlertRules(
    service_level_seconds=20,
    targets={"cards": 0.8, "complaints": 0.7},
    min_calls=5,
    long_wait_seconds=180,
)
AT = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


def queue(
    *,
    within: int = 0,
    answered: int = 0,
    abandoned_after: int = 0,
    waiting: int = 0,
    longest: float = 0.0,
    signed_in: int | None = None,
) -> QueueNow:
    counters = Counters(
        offered=answered + abandoned_after,
        answered=answered,
        answered_in_sl=within,
        abandoned=abandoned_after,
        abandoned_after_sl=abandoned_after,
    )
    return QueueNow(waiting, longest, counters, Counters(), signed_in)


def held(**queues: QueueNow) -> list[tuple[str, str]]:
    floor = Floor(at=AT, minute=int(AT.timestamp() // 60), queues=queues)
    return [(c.kind.value, c.queue) for c in conditions(floor, RULES)]


def test_service_level_below_target_holds_from_the_minimum_of_calls() -> None:
    assert held(cards=queue(within=3, answered=4)) == []  # 75 %, but 4 calls
    assert held(cards=queue(within=3, answered=4, abandoned_after=1)) == [
        ("service_level", "cards")
    ]  # 60 % over 5 calls


def test_service_level_on_target_does_not_hold() -> None:
    assert held(cards=queue(within=8, answered=10)) == []
    assert held(cards=queue(within=7, answered=9)) == [("service_level", "cards")]


def test_each_queue_has_its_own_target() -> None:
    assert held(complaints=queue(within=7, answered=10)) == []
    assert held(cards=queue(within=7, answered=10)) == [("service_level", "cards")]


def test_long_wait_holds_over_the_limit_only() -> None:
    assert held(cards=queue(waiting=1, longest=180.0, signed_in=1)) == []
    assert held(cards=queue(waiting=1, longest=180.5, signed_in=1)) == [("long_wait", "cards")]


def test_no_agents_holds_when_callers_wait_and_nobody_is_signed_in() -> None:
    assert held(cards=queue(waiting=2, signed_in=0)) == [("no_agents", "cards")]
    assert held(cards=queue(waiting=2, signed_in=1)) == []
    assert held(cards=queue(waiting=0, signed_in=None)) == []
