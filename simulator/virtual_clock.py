"""A simulated clock whose speed can change while it runs, shared with the app it drives.

`SimClock` runs at one speed. A long simulation at volume cannot know in advance how fast the
machine keeps up, so `AdaptiveClock` lets a governor turn the speed up and down: simulated time
is piecewise linear in wall time, never jumps and never runs backwards. Each speed change is
published (hotline/sim_clock.py's anchor) so the app's processes follow the same time.

Its sleepers wait in one heap of simulated deadlines with a single wall-clock timer for the
earliest, re-armed when the speed changes: thousands of callers on hold cost one timer.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import Callable
from datetime import UTC, datetime

from hotline.sim_clock import Anchor
from simulator.clock import SimClock


class AdaptiveClock(SimClock):
    """A SimClock whose `set_speed` takes effect at once; use it on one event loop."""

    def __init__(
        self,
        speed: float = 1.0,
        start: datetime | None = None,
        *,
        publish: Callable[[Anchor], None] | None = None,
    ) -> None:
        super().__init__(speed, start)
        self._publish = publish
        self._anchor_elapsed = 0.0
        self._anchor_wall = self._origin
        self._timers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self._handle: asyncio.TimerHandle | None = None
        self._armed_for: float | None = None
        self._announce()

    def elapsed(self) -> float:
        return self._anchor_elapsed + (time.monotonic() - self._anchor_wall) * self.speed

    def anchor(self) -> Anchor:
        """Where the clock stands, in the shape the app's processes read."""
        wall_now, elapsed = time.time(), self.elapsed()
        return Anchor(self._start.timestamp() + elapsed, wall_now, self.speed)

    def set_speed(self, speed: float) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self._anchor_elapsed = self.elapsed()
        self._anchor_wall = time.monotonic()
        self.speed = speed
        self._announce()
        self._arm(force=True)

    def _announce(self) -> None:
        if self._publish is not None:
            self._publish(self.anchor())

    async def sleep(self, sim_seconds: float) -> None:
        if sim_seconds <= 0:
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._timers, (self.elapsed() + sim_seconds, next(self._order), future))
        self._arm()
        await future

    def _arm(self, *, force: bool = False) -> None:
        """One wall-clock timer, for the earliest deadline at the current speed."""
        if not self._timers:
            return
        earliest = self._timers[0][0]
        if not force and self._armed_for is not None and self._armed_for <= earliest:
            return
        if self._handle is not None:
            self._handle.cancel()
        loop = asyncio.get_running_loop()
        delay = max(0.0, earliest - self.elapsed()) / self.speed
        self._handle = loop.call_later(delay, self._fire)
        self._armed_for = earliest

    def _fire(self) -> None:
        self._handle = None
        self._armed_for = None
        # A hair of slack: the timer's wall time rounds, and waking 1 µs early would re-arm.
        now = self.elapsed() + 1e-6
        while self._timers and self._timers[0][0] <= now:
            _, _, future = heapq.heappop(self._timers)
            if not future.done():  # a cancelled sleeper (an interrupted wait) is skipped
                future.set_result(None)
        self._arm()

    @property
    def sleepers(self) -> int:
        return len(self._timers)


def sim_start() -> datetime:
    """A simulation starts at the wall's present, so its days and business hours are today's."""
    return datetime.now(UTC)
