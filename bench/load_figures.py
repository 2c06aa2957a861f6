"""One load run's figures in real seconds: offered and sustained calls/s, webhook rate and
latency, as the emulated Twilio saw them.

Sustained calls/s counts the calls that ended on their own (not cut off at the time limit)
during the second half of the arrival window, per real second. Once the first half has filled
the system (a call lasts a few real seconds at the bench's speed), calls end as fast as they
arrive if the Hotline keeps up; a Hotline that falls behind ends fewer.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from simulator.callstats import CallOutcome, LoadReport
from simulator.load import LoadRun
from simulator.transcript import CallRecord, percentile


@dataclass(frozen=True)
class RateFigures:
    rate: float
    offered_per_s: float
    sustained_per_s: float
    calls: int
    reached_queue: int
    answered: int
    cut_off: int
    webhooks: int
    webhooks_per_s: float
    p50_ms: float
    p99_ms: float
    errors_by_code: dict[int, int]
    wall_seconds: float
    # How long a call lasted, real seconds (median, calls not cut off).
    call_seconds_p50: float

    @property
    def errors(self) -> str:
        return ",".join(f"{code}x{n}" for code, n in self.errors_by_code.items()) or "0"


def rate_figures(rate: float, run: LoadRun, report: LoadReport, speed: float) -> RateFigures:
    """Read the run's transcripts; call it on the emulator's loop once the run has ended."""
    records = [c.record for sid, c in run.exchange.calls.items() if sid not in run.earlier]
    placed = dict(run.placed)
    outcomes = [
        CallOutcome.from_record(record, placed[record.call_sid].skill)
        for record in records
        if record.call_sid in placed
    ]
    if not outcomes:
        return _nothing(rate, report, run.wall_seconds)
    # The run's start on the simulated clock: each call started at its planned offset from it.
    start = min(o.started_at - placed[o.call_sid].at for o in outcomes)
    arrivals_real = max(planned.at for planned in placed.values()) / speed
    window = (start + arrivals_real * speed / 2, start + arrivals_real * speed)
    window_real = (window[1] - window[0]) / speed
    ended = sum(1 for o in outcomes if not o.cut_off and window[0] <= o.ended_at < window[1])
    return RateFigures(
        rate=rate,
        offered_per_s=len(outcomes) / arrivals_real if arrivals_real else math.nan,
        sustained_per_s=ended / window_real if window_real else math.nan,
        calls=report.calls,
        reached_queue=report.reached_queue,
        answered=report.answered,
        cut_off=report.cut_off,
        webhooks=report.webhook_requests,
        webhooks_per_s=_requests_in(records, window) / window_real if window_real else math.nan,
        p50_ms=report.latency_p50_ms,
        p99_ms=report.latency_p99_ms,
        errors_by_code=report.errors_by_code,
        wall_seconds=run.wall_seconds,
        call_seconds_p50=percentile(
            sorted((o.ended_at - o.started_at) / speed for o in outcomes if not o.cut_off), 0.5
        ),
    )


@dataclass(frozen=True)
class RouteLatency:
    path: str
    requests: int
    p50_ms: float
    p99_ms: float
    max_ms: float


def route_latencies(run: LoadRun) -> list[RouteLatency]:
    """Per webhook path (query left out), slowest p99 first; on the emulator's loop."""
    by_path: dict[str, list[float]] = {}
    for sid, call in run.exchange.calls.items():
        if sid in run.earlier:
            continue
        for request in call.record.requests:
            path = urlsplit(request.url).path
            by_path.setdefault(path, []).append(request.latency_ms)
    routes = [
        RouteLatency(path, len(v), percentile(v, 0.5), percentile(v, 0.99), v[-1])
        for path, v in ((p, sorted(values)) for p, values in by_path.items())
    ]
    return sorted(routes, key=lambda route: route.p99_ms, reverse=True)


def _requests_in(records: Sequence[CallRecord], window: tuple[float, float]) -> int:
    return sum(1 for r in records for q in r.requests if window[0] <= q.at < window[1])


def _nothing(rate: float, report: LoadReport, wall: float) -> RateFigures:
    return RateFigures(
        rate, 0.0, 0.0, 0, 0, 0, 0, 0, 0.0, 0.0, 0.0, report.errors_by_code, wall, 0.0
    )
