"""Runs simulated time as fast as the system under test keeps up, and no faster.

A fixed speed either wastes the machine or overloads it (then webhooks queue, latencies and
every simulated wait stretch, and the figures measure the overload). The governor looks every
half second at what the app and the emulator are going through — webhooks in flight, their
recent latency, how late the emulator's own loop wakes, the workers' backlog — and turns the
`AdaptiveClock`'s speed down at once when any is strained, and up slowly when all are easy.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from simulator.transcript import percentile
from simulator.virtual_clock import AdaptiveClock


class CountingTransport(httpx.AsyncBaseTransport):
    """The emulator's transport to the app, counting requests in flight and their latencies."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self._inner = inner
        self.in_flight = 0
        self.recent_ms: list[float] = []
        self.block_ms: list[float] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.in_flight += 1
        started = time.monotonic()
        try:
            return await self._inner.handle_async_request(request)
        finally:
            self.in_flight -= 1
            latency_ms = (time.monotonic() - started) * 1000
            self.recent_ms.append(latency_ms)
            self.block_ms.append(latency_ms)

    def take_recent(self) -> list[float]:
        """Latencies since the last call (the governor's window)."""
        taken, self.recent_ms = self.recent_ms, []
        return taken

    def take_block(self) -> list[float]:
        """Latencies since the last call (a progress line's window)."""
        taken, self.block_ms = self.block_ms, []
        return taken

    async def aclose(self) -> None:
        await self._inner.aclose()


@dataclass(frozen=True)
class Limits:
    """What counts as strained; half of each counts as easy."""

    p90_ms: float = 150.0
    in_flight: int = 32
    loop_lag_seconds: float = 0.1
    backlog: int = 300
    min_speed: float = 0.2
    max_speed: float = 60.0
    slow_down: float = 0.75
    speed_up: float = 1.04


@dataclass
class Strain:
    p90_ms: float = 0.0
    in_flight: int = 0
    loop_lag_seconds: float = 0.0
    backlog: int = 0

    def over(self, limits: Limits, share: float = 1.0) -> list[str]:
        """The signals past `share` of their limits."""
        checks = {
            "p90": self.p90_ms > limits.p90_ms * share,
            "in flight": self.in_flight > limits.in_flight * share,
            "loop lag": self.loop_lag_seconds > limits.loop_lag_seconds * share,
            "backlog": self.backlog > limits.backlog * share,
        }
        return [name for name, over in checks.items() if over]


@dataclass
class Governor:
    """Call `run()` on the clock's loop; `stop()` ends it."""

    clock: AdaptiveClock
    transport: CountingTransport
    # Work the app has been handed and not yet done (jobs queued, ended calls not logged).
    backlog: Callable[[], int] = lambda: 0
    limits: Limits = field(default_factory=Limits)
    period_seconds: float = 0.5
    last: Strain = field(default_factory=Strain)
    # How often each signal made it slow down: what holds the speed back.
    slowed_by: Counter[str] = field(default_factory=Counter)
    steps: int = 0
    _running: bool = True

    def step(self, lag: float) -> float:
        """One look and one adjustment; the new speed."""
        self.steps += 1
        previous = self.last
        recent = sorted(self.transport.take_recent())
        self.last = Strain(
            p90_ms=percentile(recent, 0.9) if recent else 0.0,
            in_flight=self.transport.in_flight,
            loop_lag_seconds=lag,
            backlog=self.backlog(),
        )
        speed = self.clock.speed
        strained = self.last.over(self.limits)
        # A backlog is work already handed out: it lags the speed by seconds. Past its limit
        # but smaller than at the last look, it is being worked off at this speed, so hold
        # it there; slowing on until it is gone would leave the machine idle afterwards.
        working_off = "backlog" in strained and self.last.backlog < previous.backlog
        if working_off:
            strained.remove("backlog")
        self.slowed_by.update(strained)
        if strained:
            speed *= self.limits.slow_down
        elif not working_off and not self.last.over(self.limits, 0.5):
            speed *= self.limits.speed_up
        speed = min(self.limits.max_speed, max(self.limits.min_speed, speed))
        if speed != self.clock.speed:
            self.clock.set_speed(speed)
        return speed

    async def run(self) -> None:
        while self._running:
            asked = time.monotonic()
            await asyncio.sleep(self.period_seconds)
            self.step(max(0.0, time.monotonic() - asked - self.period_seconds))

    def stop(self) -> None:
        self._running = False
