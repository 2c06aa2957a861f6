"""Routing configuration: queues by skill with escalation steps, caller order, agent choice."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

DEFAULT_PATH = Path(__file__).with_name("queues.yaml")


class RoutingConfigError(ValueError):
    """A routing file that cannot be served; says which file, where, and what is wrong."""


class Strategy(StrEnum):
    longest_idle = "longest_idle"
    most_skilled = "most_skilled"
    fewest_calls = "fewest_calls"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Step(_Strict):
    after: int = Field(ge=0, le=86_400)
    min_level: int = Field(1, ge=1, le=10)
    any_language: bool = False
    overflow: str | None = None


class VirtualHold(_Strict):
    """When a queue's waiting callers may ask to be called back instead, keeping their place."""

    # Offered once the caller has waited this long...
    offer_after: int = Field(60, ge=0, le=3600)
    # ...and only while this many callers or more (the caller included) are waiting.
    min_waiting: int = Field(1, ge=1, le=1000)
    key: str = Field("1", pattern=r"^[0-9*#]$")


class HoldCalls(_Strict):
    """How the bank calls back the callers who chose it (every queue alike)."""

    # How long the customer's phone rings (Twilio's calls.create Timeout).
    ring_seconds: int = Field(30, ge=5, le=120)
    attempts: int = Field(3, ge=1, le=10)
    # After a call back that was not answered, the caller waits this long, at their own
    # place, before the next attempt.
    retry_after_seconds: int = Field(60, ge=0, le=3600)


class QueueConfig(_Strict):
    skill: str = Field(pattern=r"^[a-z][a-z_]{1,31}$")
    steps: list[Step] = Field(min_length=1)
    # Unset: this queue's callers are not offered a call back.
    virtual_hold: VirtualHold | None = None
    # This queue's service-level target for alerts; unset: HOTLINE_SERVICE_LEVEL_TARGET.
    service_level_target: float | None = Field(None, gt=0, le=1)

    @model_validator(mode="after")
    def _steps_in_order(self) -> QueueConfig:
        if self.steps[0].after != 0:
            raise ValueError("the first step starts at 0 seconds")
        afters = [step.after for step in self.steps]
        if afters != sorted(set(afters)):
            raise ValueError("steps must come in rising order of `after`")
        if any(step.overflow for step in self.steps[:-1]):
            raise ValueError("only the last step may overflow")
        if self.steps[0].overflow:
            raise ValueError("the first step cannot overflow")
        return self


class RoutingConfig(_Strict):
    priority_credit_seconds: dict[int, int] = Field(
        default_factory=lambda: {1: 3600, 2: 300, 3: 0, 4: -120}
    )
    strategy: Strategy = Strategy.longest_idle
    languages: list[str] = Field(default_factory=lambda: ["zh", "en"], min_length=1)
    ring_timeout_seconds: int = Field(20, ge=5, le=120)
    wrap_up_seconds: int = Field(30, ge=0, le=3600)
    sticky_agent: bool = True
    # The live figures: SL(T)'s T, and how soon a hang-up counts as a short abandon.
    service_level_seconds: int = Field(20, ge=1, le=3600)
    short_abandon_seconds: int = Field(5, ge=0, le=60)
    # The bank's zone: "today" in the figures is its day.
    timezone: str = "Asia/Shanghai"
    virtual_hold_calls: HoldCalls = Field(default_factory=HoldCalls)
    queues: dict[str, QueueConfig]

    @model_validator(mode="after")
    def _references(self) -> RoutingConfig:
        for name, queue in self.queues.items():
            target = queue.steps[-1].overflow
            if target is not None and target not in self.queues:
                raise ValueError(f"queue {name!r} overflows to unknown queue {target!r}")
            if target == name:
                raise ValueError(f"queue {name!r} overflows to itself")
            if target is not None and self.queues[target].steps[-1].overflow:
                raise ValueError(f"queue {name!r} overflows to {target!r}, which overflows again")
        if set(self.priority_credit_seconds) != {1, 2, 3, 4}:
            raise ValueError("priority_credit_seconds needs priorities 1, 2, 3 and 4")
        return self

    def queue_for_skill(self, skill: str) -> str:
        """The queue that serves a skill: the one named for it, else the first with that skill."""
        if skill in self.queues:
            return skill
        for name, queue in self.queues.items():
            if queue.skill == skill:
                return name
        return "general" if "general" in self.queues else next(iter(self.queues))

    def credit(self, priority: int) -> int:
        return self.priority_credit_seconds.get(priority, 0)

    def as_lua_json(self) -> str:
        """What the matching script reads: queues with their skill and steps."""
        return json.dumps(
            {
                name: {
                    "skill": queue.skill,
                    "steps": [
                        {
                            "after": step.after,
                            "min_level": step.min_level,
                            "any_language": step.any_language,
                            "overflow": step.overflow or False,
                        }
                        for step in queue.steps
                    ],
                }
                for name, queue in self.queues.items()
            },
            separators=(",", ":"),
        )


def parse_routing(text: str, *, source: str) -> RoutingConfig:
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RoutingConfigError(f"{source}: not valid YAML: {exc}") from exc
    try:
        return RoutingConfig.model_validate(raw)
    except ValidationError as exc:
        lines = [
            f"{source}: {'.'.join(str(part) for part in err['loc']) or '(top)'}: {err['msg']}"
            for err in exc.errors()
        ]
        raise RoutingConfigError("\n".join(lines)) from exc


def routing_for(
    path: Path, *, ring_timeout_seconds: int, wrap_up_seconds: int, timezone: str | None = None
) -> RoutingConfig:
    """The routing file with the ring and wrap-up times (and the bank's time zone, when given)
    the settings give."""
    update: dict[str, object] = {
        "ring_timeout_seconds": ring_timeout_seconds,
        "wrap_up_seconds": wrap_up_seconds,
    }
    if timezone is not None:
        update["timezone"] = timezone
    return load_routing(path).model_copy(update=update)


def utc_offsets(timezone: str, *, start: datetime, days: int = 400) -> list[tuple[int, int]]:
    """[(from epoch second, UTC offset in seconds)] for `days` from `start`: the changes of
    the zone's offset (summer time), found hour by hour, so the router can tell local days."""
    hour = start.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    return list(_offset_changes(timezone, hour, days))


# Every app start configures the router from "now": within one hour the answer is the same,
# and working it out takes ~10,000 zone look-ups.
@lru_cache(maxsize=8)
def _offset_changes(timezone: str, moment: datetime, days: int) -> tuple[tuple[int, int], ...]:
    zone = ZoneInfo(timezone)

    def offset(at: datetime) -> int:
        delta = at.astimezone(zone).utcoffset()
        return int(delta.total_seconds()) if delta is not None else 0

    changes = [(0, offset(moment))]
    for _ in range(days * 24):
        moment += timedelta(hours=1)
        current = offset(moment)
        if current != changes[-1][1]:
            changes.append((int(moment.timestamp()), current))
    return tuple(changes)


@lru_cache(maxsize=4)
def load_routing(path: Path = DEFAULT_PATH) -> RoutingConfig:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RoutingConfigError(f"{path}: cannot read routing file: {exc}") from exc
    return parse_routing(text, source=str(path))
