"""Webhook latency histograms for `GET /metrics`, kept in each API process.

A pure ASGI middleware (no `BaseHTTPMiddleware`: it would cost more than it measures) times
every request under /twilio/. The counts are per process, as Prometheus client libraries keep
them: scrape each API process.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from dataclasses import dataclass, field
from time import perf_counter

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Seconds; Twilio gives up at 15 s.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0)
WEBHOOK_PREFIX = "/twilio/"


@dataclass
class Histogram:
    counts: list[int] = field(default_factory=lambda: [0] * (len(BUCKETS) + 1))
    total: float = 0.0

    def observe(self, seconds: float) -> None:
        self.counts[bisect.bisect_left(BUCKETS, seconds)] += 1
        self.total += seconds

    def cumulative(self) -> Iterator[tuple[str, int]]:
        """(le, count) pairs as Prometheus writes them, +Inf last."""
        running = 0
        for bound, count in zip((*map(str, BUCKETS), "+Inf"), self.counts, strict=True):
            running += count
            yield bound, running


@dataclass
class WebhookTimings:
    by_route: dict[str, Histogram] = field(default_factory=dict)

    def observe(self, route: str, seconds: float) -> None:
        self.by_route.setdefault(route, Histogram()).observe(seconds)


class WebhookTimer:
    """Times the webhooks into `timings`; paths that answer 404 are left out, so a scanner
    cannot grow the label set."""

    def __init__(self, app: ASGIApp, timings: WebhookTimings) -> None:
        self.app = app
        self.timings = timings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not path.startswith(WEBHOOK_PREFIX):
            await self.app(scope, receive, send)
            return
        started = perf_counter()
        status = 0

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            if status != 404:
                self.timings.observe(path, perf_counter() - started)
