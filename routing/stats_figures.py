"""The definitions applied: counters in, figures out (ARCHITECTURE.md's, exactly)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

from routing.stats_models import Figures

# Signed in and able to take the queue's calls: what the expected wait divides by.
STAFFED = frozenset({"available", "reserved", "busy", "wrap_up"})
WINDOWS = (15, 30, 60)
# The states whose time occupancy weighs; the router accumulates them as agents leave them.
OCCUPANCY_STATES = ("available", "busy", "wrap_up")


def as_text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def number_of(raw: Mapping[Any, Any], name: str) -> float:
    value = raw.get(name.encode(), raw.get(name))
    return float(as_text(value)) if value is not None else 0.0


@dataclass
class Counters:
    """One period's counters for a queue (or the sum of several)."""

    offered: float = 0
    answered: float = 0
    answered_in_sl: float = 0
    wait_answered: float = 0
    abandoned: float = 0
    abandoned_after_sl: float = 0
    short_abandons: float = 0
    longest_wait: float = 0
    handled: float = 0
    talk: float = 0
    wrap_up: float = 0
    missed_offers: float = 0

    @classmethod
    def of(cls, raw: Mapping[Any, Any]) -> Counters:
        return cls(*(number_of(raw, name) for name in _COUNTER_NAMES))

    def add(self, other: Counters) -> None:
        """Add `other` in place (the longest wait is the longer of the two)."""
        for name in _SUMMED_NAMES:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.longest_wait = max(self.longest_wait, other.longest_wait)


_COUNTER_NAMES = tuple(field.name for field in fields(Counters))
_SUMMED_NAMES = tuple(name for name in _COUNTER_NAMES if name != "longest_wait")


def total(items: Iterable[Counters]) -> Counters:
    result = Counters()
    for item in items:
        result.add(item)
    return result


def windows_of(by_minute: Sequence[Counters]) -> dict[int, Counters]:
    """The rolling windows from minute buckets, newest first, in one pass."""
    running, windows = Counters(), {}
    for count, bucket in enumerate(by_minute, start=1):
        running.add(bucket)
        if count in WINDOWS:
            windows[count] = total([running])
    return windows


@dataclass
class StateTime:
    """Seconds agents spent available, busy (talking) and in wrap-up."""

    available: float = 0
    busy: float = 0
    wrap_up: float = 0

    @classmethod
    def of(cls, raw: Mapping[Any, Any]) -> StateTime:
        return cls(**{name: number_of(raw, name) for name in OCCUPANCY_STATES})

    def __add__(self, other: StateTime) -> StateTime:
        return StateTime(
            self.available + other.available, self.busy + other.busy, self.wrap_up + other.wrap_up
        )

    def plus(self, state: str, seconds: float) -> StateTime:
        if state not in OCCUPANCY_STATES or seconds <= 0:
            return self
        return self + StateTime(**{state: seconds})


def ratio(part: float, whole: float, digits: int = 4) -> float | None:
    return round(part / whole, digits) if whole > 0 else None


@dataclass(frozen=True)
class CallbackCounts:
    """Callbacks in one period: owed (scheduled), calls placed, connected, failed for good."""

    scheduled: int = 0
    placed: int = 0
    connected: int = 0
    failed: int = 0


def figures(
    counters: Counters,
    time_in_states: StateTime | None = None,
    callbacks: CallbackCounts | None = None,
) -> Figures:
    """The definitions (README, "Live figures") applied to a period's counters."""
    c = counters
    worked = None
    if time_in_states is not None:
        work = time_in_states.busy + time_in_states.wrap_up
        worked = ratio(work, work + time_in_states.available)
    return Figures(
        offered=int(c.offered),
        answered=int(c.answered),
        abandoned=int(c.abandoned),
        short_abandons=int(c.short_abandons),
        answered_within_sl=int(c.answered_in_sl),
        abandoned_after_sl=int(c.abandoned_after_sl),
        handled=int(c.handled),
        missed_offers=int(c.missed_offers),
        service_level=ratio(c.answered_in_sl, c.answered + c.abandoned_after_sl),
        asa_seconds=ratio(c.wait_answered, c.answered, 1),
        aht_seconds=ratio(c.talk + c.wrap_up, c.handled, 1),
        abandon_rate=ratio(c.abandoned, c.offered - c.short_abandons),
        occupancy=worked,
        longest_wait_seconds=round(c.longest_wait, 1),
        talk_seconds=round(c.talk, 1),
        wrap_up_seconds=round(c.wrap_up, 1),
        callbacks_scheduled=callbacks.scheduled if callbacks else None,
        callbacks_placed=callbacks.placed if callbacks else None,
        callbacks_connected=callbacks.connected if callbacks else None,
        callbacks_failed=callbacks.failed if callbacks else None,
    )


def total_time(items: Iterable[StateTime]) -> StateTime:
    result = StateTime()
    for item in items:
        result = result + item
    return result


def expected_wait(
    waiting: int, agents: Mapping[str, int], last_hour: Counters, today: Counters
) -> float | None:
    """(waiting + 1) × AHT / agents staffed: how long a caller joining now may wait, with the
    AHT of the last hour (else of today); 0 when an agent is free and nobody waits; null when
    nobody is staffed or no call has been handled yet."""
    staffed = sum(agents.get(state, 0) for state in STAFFED)
    if waiting == 0 and agents.get("available", 0) > 0:
        return 0.0
    aht = figures(last_hour).aht_seconds or figures(today).aht_seconds
    if staffed == 0 or aht is None:
        return None
    return round((waiting + 1) * aht / staffed, 1)
