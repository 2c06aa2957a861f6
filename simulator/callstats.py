"""Contact-centre figures measured from Twilio's side: what each caller's transcript shows.

The definitions are the architecture's (and the README's): service level SL(T) = answered
within T / (answered + abandoned after T); ASA = queue wait of answered calls / answered;
AHT = handle time / handled calls; abandon rate = abandoned / offered, both without short
abandons (callers who hang up within 5 s of reaching the queue).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from simulator.transcript import CallRecord, Note, percentile

SHORT_ABANDON_SECONDS = 5.0
SERVICE_LEVEL_SECONDS = 20.0
# Where a caller starts waiting for a person: the queue, or a Dial straight to an agent.
WAITING = frozenset({"enqueued", "dialing"})
# Where a person answers the caller.
PUT_THROUGH = frozenset({"dial-answered", "bridged"})
TALK_ENDED = frozenset({"dial-ended", "bridge-ended"})
CUT_OFF = "cut-off"


@dataclass(frozen=True)
class CallOutcome:
    """One inbound call, reduced to the moments the figures need (simulated seconds)."""

    call_sid: str
    skill: str | None
    started_at: float
    queued_at: float | None
    answered_at: float | None
    ended_at: float
    talk_seconds: float
    caller_hung_up: bool
    cut_off: bool

    @property
    def reached_queue(self) -> bool:
        return self.queued_at is not None

    @property
    def answered(self) -> bool:
        return self.answered_at is not None

    @property
    def wait_seconds(self) -> float:
        """Time from reaching the queue until an agent answered or the caller gave up."""
        if self.queued_at is None:
            return 0.0
        until = self.answered_at if self.answered_at is not None else self.ended_at
        return max(0.0, until - self.queued_at)

    @property
    def abandoned(self) -> bool:
        """Hung up while waiting for an agent (short abandons included)."""
        return self.reached_queue and not self.answered and self.caller_hung_up

    @property
    def short_abandon(self) -> bool:
        return self.abandoned and self.wait_seconds < SHORT_ABANDON_SECONDS

    @classmethod
    def from_record(cls, record: CallRecord, planned_skill: str | None = None) -> CallOutcome:
        """Read the caller's notes: queue joins, dials, answers, bridge ends, the hang-up."""
        notes = [e for e in record.events if isinstance(e, Note)]
        times = [e.at for e in record.events]
        started = times[0] if times else 0.0
        ended = times[-1] if times else 0.0
        queued_at = answered_at = talk_from = None
        skill = planned_skill
        talk = 0.0
        for note in notes:
            if note.what in WAITING and queued_at is None:
                queued_at = note.at
                skill = note.detail.get("queue", skill)
            elif note.what in PUT_THROUGH:
                answered_at = note.at if answered_at is None else answered_at
                talk_from = note.at
            elif note.what in TALK_ENDED and talk_from is not None:
                talk += note.at - talk_from
                talk_from = None
        if talk_from is not None:
            # The caller hung up mid-conversation: no end-of-talk note, the call's end is it.
            talk += ended - talk_from
        return cls(
            call_sid=record.call_sid,
            skill=skill if queued_at is not None else None,
            started_at=started,
            queued_at=queued_at,
            answered_at=answered_at,
            ended_at=ended,
            talk_seconds=talk,
            caller_hung_up=record.outcome == "caller-hangup",
            cut_off=any(note.what == CUT_OFF for note in notes),
        )


@dataclass(frozen=True)
class SkillWaits:
    calls: int
    p50: float
    p90: float


@dataclass(frozen=True)
class LoadReport:
    """The run's figures; rates and averages are None when nothing was there to divide by."""

    calls: int
    reached_queue: int
    answered: int
    abandoned: int
    short_abandons: int
    ended_in_ivr: int
    cut_off: int
    service_level: float | None
    asa_seconds: float | None
    aht_seconds: float | None
    abandon_rate: float | None
    waits_by_skill: dict[str, SkillWaits]
    webhook_requests: int
    latency_p50_ms: float
    latency_p99_ms: float
    errors_by_code: dict[int, int]
    sim_seconds: float

    @property
    def errors(self) -> int:
        return sum(self.errors_by_code.values())

    @classmethod
    def from_records(
        cls, records: Sequence[CallRecord], planned_skills: Mapping[str, str | None]
    ) -> LoadReport:
        """Call figures over the calls placed (`planned_skills` keys); latency and errors over
        every leg, the app's own outbound calls to agents included."""
        outcomes = [
            CallOutcome.from_record(record, planned_skills[record.call_sid])
            for record in records
            if record.call_sid in planned_skills
        ]
        latencies = sorted(r.latency_ms for record in records for r in record.requests)
        errors = Counter(e.code for record in records for e in record.errors)
        return cls.from_outcomes(
            outcomes, latencies=latencies, errors_by_code=dict(sorted(errors.items()))
        )

    @classmethod
    def from_outcomes(
        cls,
        outcomes: Sequence[CallOutcome],
        *,
        latencies: Sequence[float] = (),
        errors_by_code: Mapping[int, int] | None = None,
    ) -> LoadReport:
        queued = [o for o in outcomes if o.reached_queue]
        answered = [o for o in queued if o.answered]
        short = [o for o in queued if o.short_abandon]
        abandoned = [o for o in queued if o.abandoned and not o.short_abandon]
        within = sum(1 for o in answered if o.wait_seconds <= SERVICE_LEVEL_SECONDS)
        late_abandons = sum(1 for o in abandoned if o.wait_seconds > SERVICE_LEVEL_SECONDS)
        offered = len(queued) - len(short)
        ordered = sorted(latencies)
        return cls(
            calls=len(outcomes),
            reached_queue=len(queued),
            answered=len(answered),
            abandoned=len(abandoned),
            short_abandons=len(short),
            ended_in_ivr=len(outcomes) - len(queued),
            cut_off=sum(1 for o in outcomes if o.cut_off),
            service_level=_ratio(within, len(answered) + late_abandons),
            asa_seconds=_ratio(sum(o.wait_seconds for o in answered), len(answered)),
            aht_seconds=_ratio(sum(o.talk_seconds for o in answered), len(answered)),
            abandon_rate=_ratio(len(abandoned), offered),
            waits_by_skill=_waits_by_skill(queued),
            webhook_requests=len(ordered),
            latency_p50_ms=percentile(ordered, 0.50),
            latency_p99_ms=percentile(ordered, 0.99),
            errors_by_code=dict(errors_by_code or {}),
            sim_seconds=max((o.ended_at for o in outcomes), default=0.0)
            - min((o.started_at for o in outcomes), default=0.0),
        )


def _ratio(part: float, whole: float) -> float | None:
    return part / whole if whole else None


def _waits_by_skill(queued: Sequence[CallOutcome]) -> dict[str, SkillWaits]:
    waits: dict[str, list[float]] = defaultdict(list)
    for outcome in queued:
        waits[outcome.skill or "unknown"].append(outcome.wait_seconds)
    return {
        skill: SkillWaits(
            len(values), percentile(sorted(values), 0.5), percentile(sorted(values), 0.9)
        )
        for skill, values in sorted(waits.items())
    }
