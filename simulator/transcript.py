"""What happened on each call, and the run report summarised from many calls."""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Said:
    at: float
    text: str
    voice: str
    language: str


@dataclass(frozen=True)
class Played:
    at: float
    url: str


@dataclass(frozen=True)
class Paused:
    at: float
    seconds: float


@dataclass(frozen=True)
class Gathered:
    """The caller's answer to one Gather: digits, speech, or nothing."""

    at: float
    input: str
    digits: str | None
    speech: str | None
    language: str


@dataclass(frozen=True)
class Recorded:
    at: float
    recording_sid: str
    seconds: int
    finished_by: str


@dataclass(frozen=True)
class WebhookRequest:
    at: float
    method: str
    url: str
    params: dict[str, str]
    status: int | None
    latency_ms: float
    purpose: str


@dataclass(frozen=True)
class CallError:
    """An error Twilio would show in its debugger, with Twilio's code."""

    at: float
    code: int
    message: str
    url: str
    fatal: bool = True


@dataclass(frozen=True)
class Note:
    """Progress the app can observe only indirectly: queue joins, dial outcomes, bridges."""

    at: float
    what: str
    detail: dict[str, str] = field(default_factory=dict)


Event = Said | Played | Paused | Gathered | Recorded | WebhookRequest | CallError | Note


@dataclass
class CallRecord:
    call_sid: str
    direction: str
    from_: str
    to: str
    events: list[Event] = field(default_factory=list)
    status: str = "queued"
    outcome: str = ""
    duration: int = 0

    @property
    def errors(self) -> list[CallError]:
        return [e for e in self.events if isinstance(e, CallError)]

    @property
    def requests(self) -> list[WebhookRequest]:
        return [e for e in self.events if isinstance(e, WebhookRequest)]

    @property
    def said(self) -> list[str]:
        return [e.text for e in self.events if isinstance(e, Said)]

    def notes(self, what: str) -> list[Note]:
        return [e for e in self.events if isinstance(e, Note) and e.what == what]

    def requests_to(self, path: str) -> list[WebhookRequest]:
        """Requests whose URL path (query excluded) ends with `path`."""
        return [r for r in self.requests if r.url.split("?", 1)[0].endswith(path)]


@dataclass(frozen=True)
class RunReport:
    calls: int
    outcomes: dict[str, int]
    errors_by_code: dict[int, int]
    webhook_count: int
    latency_p50_ms: float
    latency_p95_ms: float
    latency_max_ms: float

    @classmethod
    def from_records(cls, records: list[CallRecord]) -> RunReport:
        latencies = sorted(r.latency_ms for rec in records for r in rec.requests)
        return cls(
            calls=len(records),
            outcomes=dict(Counter(rec.outcome for rec in records)),
            errors_by_code=dict(Counter(e.code for rec in records for e in rec.errors)),
            webhook_count=len(latencies),
            latency_p50_ms=statistics.median(latencies) if latencies else 0.0,
            latency_p95_ms=percentile(latencies, 0.95),
            latency_max_ms=latencies[-1] if latencies else 0.0,
        )


def percentile(ordered: list[float], fraction: float) -> float:
    """Nearest-rank percentile of already sorted values; 0 for none."""
    if not ordered:
        return 0.0
    index = min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))
    return ordered[index]
