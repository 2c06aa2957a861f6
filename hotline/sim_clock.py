"""A simulated clock shared through Redis, so a simulation can run the app's time faster.

The simulation's master clock (simulator/virtual_clock.py) publishes an anchor whenever its
speed changes: "simulated epoch seconds, wall epoch seconds, speed". Every app process computes
the same piecewise-linear time from it — simulated = anchor + (wall − anchor wall) × speed — so
the router's timers, wrap-ups, offers' expiry, call logs and stats windows of every API process
and worker follow the simulation's time, not the wall's. Only for simulations: the production
settings refuse `HOTLINE_SIM_CLOCK_KEY`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import redis

log = logging.getLogger(__name__)

# How long a process trusts the anchor it read: speed changes reach it within this much wall
# time, and a request costs no Redis round trip for the time. The read is a blocking one in
# the API's event loop, so not too often: at the speeds a two-core machine reaches (a few ×)
# a change read 0.2 s late shifts a process's time by well under a simulated second.
REFRESH_SECONDS = 0.2


@dataclass(frozen=True)
class Anchor:
    """The simulated time `sim` (epoch seconds) at wall time `wall`, moving `speed`× faster."""

    sim: float
    wall: float
    speed: float

    def at(self, wall: float) -> float:
        return self.sim + (wall - self.wall) * self.speed

    def encode(self) -> str:
        return f"{self.sim:.6f} {self.wall:.6f} {self.speed:.6f}"

    @classmethod
    def decode(cls, raw: str | bytes) -> Anchor:
        text = raw.decode() if isinstance(raw, bytes) else raw
        sim, wall, speed = (float(part) for part in text.split())
        if speed <= 0:
            raise ValueError(f"a simulated clock needs a positive speed, not {speed}")
        return cls(sim, wall, speed)


def publish(client: redis.Redis, key: str, anchor: Anchor) -> None:
    client.set(key, anchor.encode())


class SharedSimClock:
    """`now()` on the published anchor; the wall clock until one is published."""

    def __init__(
        self, client: redis.Redis, key: str, *, wall: Callable[[], float] = time.time
    ) -> None:
        self._client = client
        self._key = key
        self._wall = wall
        self._anchor: Anchor | None = None
        self._read_at = float("-inf")
        self._last = float("-inf")
        self._lock = threading.Lock()

    def anchor(self) -> Anchor | None:
        wall = self._wall()
        if wall - self._read_at >= REFRESH_SECONDS:
            raw = self._client.get(self._key)
            self._anchor = Anchor.decode(raw) if raw is not None else None
            self._read_at = wall
        return self._anchor

    def speed(self) -> float:
        """Simulated seconds per wall second now."""
        anchor = self.anchor()
        return anchor.speed if anchor is not None else 1.0

    def now(self) -> datetime:
        with self._lock:
            anchor = self.anchor()
            wall = self._wall()
            moment = anchor.at(wall) if anchor is not None else wall
            # A slowdown read late would step back by a few ms of simulated time: never show it.
            self._last = max(self._last, moment)
            return datetime.fromtimestamp(self._last, UTC)


class SimTicker(threading.Thread):
    """Runs `work` every `every_sim_seconds` of simulated time.

    The router's heartbeat is an RQ chain whose next link is due a wall second later; at 20×
    that would fire its timers (wrap-up ends, escalation steps, offers' expiry) only every 20
    simulated seconds. A simulation's worker runs this beside it so they fire on time."""

    def __init__(
        self, clock: SharedSimClock, work: Callable[[], object], *, every_sim_seconds: float = 1.0
    ) -> None:
        super().__init__(name="sim-ticker", daemon=True)
        self._clock = clock
        self._work = work
        self._every = every_sim_seconds
        self._stopped = threading.Event()
        self.runs = 0

    def run(self) -> None:
        while not self._stopped.is_set():
            started = time.monotonic()
            try:
                self._work()
                self.runs += 1
            except Exception:
                # A failed tick (Redis away a moment) is retried at the next one.
                log.warning("simulated tick failed", exc_info=True)
            wait = self._every / self._clock.speed() - (time.monotonic() - started)
            self._stopped.wait(min(1.0, max(0.002, wait)))

    def stop(self) -> None:
        self._stopped.set()
