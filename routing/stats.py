"""Live figures: read the router's counters (routing/lua/stats.lua) and apply the definitions.

Reading is two Redis round trips of a fixed number of commands (per queue, per minute of the
last hour, per agent), never a scan of calls: it costs the same with 10 or 50,000 of them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import redis

from routing.config import RoutingConfig
from routing.stats_figures import (
    WINDOWS,
    CallbackCounts,
    Counters,
    StateTime,
    as_text,
    expected_wait,
    figures,
    ratio,
    total,
    total_time,
    windows_of,
)
from routing.stats_models import (
    AgentFigures,
    Csat,
    Figures,
    LiveFigures,
    QueueFigures,
    SupervisorStats,
)

STATES = ("available", "reserved", "busy", "wrap_up", "break", "missed", "offline")
P = "{rt}:"


@dataclass(frozen=True)
class Callbacks:
    """From the CRM: callbacks due now, and the counts today and in each rolling window."""

    due: int
    today: CallbackCounts
    in_window: Mapping[int, CallbackCounts]
    # Callers waiting in a queue to be called back (virtual hold).
    holding: int = 0


@dataclass(frozen=True)
class Satisfaction:
    """From the CRM's surveys: CSAT today and in each rolling window."""

    today: Csat
    in_window: Mapping[int, Csat]


@dataclass(frozen=True)
class Periods:
    """Today (bank-local) and the rolling windows, as of `now`."""

    now: datetime
    day: date
    day_start: datetime
    minute: int  # the current UTC epoch minute

    @classmethod
    def at(cls, now: datetime, zone: ZoneInfo) -> Periods:
        day = now.astimezone(zone).date()
        start = datetime.combine(day, time(0), zone).astimezone(UTC)
        return cls(now=now, day=day, day_start=start, minute=int(now.timestamp() // 60))

    @property
    def day_key(self) -> str:
        return self.day.strftime("%Y%m%d")

    def window_start(self, minutes: int) -> datetime:
        """A window is the current minute and the minutes before it, `minutes` in all."""
        return datetime.fromtimestamp((self.minute - minutes + 1) * 60, UTC)

    def starts(self) -> list[datetime]:
        return [self.day_start, *(self.window_start(minutes) for minutes in WINDOWS)]


@dataclass
class _Agent:
    agent_id: int
    state: str
    since: datetime | None
    reason: str | None
    skills: dict[str, int]
    today: Counters

    def time_since(self, start: datetime, now: datetime) -> float:
        """Seconds of the current state inside [start, now]: not yet counted by the router."""
        if self.since is None:
            return 0.0
        return max(0.0, (now - max(self.since, start)).total_seconds())


class StatsReader:
    """Reads the figures from the router's counters."""

    def __init__(self, client: redis.Redis, config: RoutingConfig, *, sl_target: float) -> None:
        """`sl_target`: the service level a queue without its own target should keep."""
        self._client = client
        self._config = config
        self._sl_target = sl_target
        self._zone = ZoneInfo(config.timezone)

    @property
    def client(self) -> redis.Redis:
        return self._client

    @property
    def zone(self) -> ZoneInfo:
        return self._zone

    def periods(self, now: datetime) -> Periods:
        return Periods.at(now, self._zone)

    def day_counters(self, day: date) -> tuple[dict[str, Counters], StateTime]:
        """One bank-local day's counters per queue, and the agents' time that day."""
        key = day.strftime("%Y%m%d")
        pipe = self._client.pipeline(transaction=False)
        for queue in self._config.queues:
            pipe.hgetall(f"{P}stats:day:{key}:{queue}")
        pipe.hgetall(f"{P}stats:occ:day:{key}")
        replies = pipe.execute()
        names = list(self._config.queues)
        queues = {queue: Counters.of(raw) for queue, raw in zip(names, replies[:-1], strict=True)}
        return queues, StateTime.of(replies[-1])

    def gauges(self, *, now: datetime) -> tuple[dict[str, tuple[int, float]], dict[str, int]]:
        """The cheapest real-time read, for /metrics: per queue (waiting, longest wait), and
        agents by state."""
        pipe = self._client.pipeline(transaction=False)
        for queue in self._config.queues:
            pipe.zcard(f"{P}waiting:{queue}")
            pipe.zrange(f"{P}waiting:{queue}", 0, 0, withscores=True)
        for state in STATES:
            pipe.scard(f"{P}agents:{state}")
        replies = iter(pipe.execute())
        waiting = {}
        for queue in self._config.queues:
            count, head = int(next(replies)), next(replies)
            waiting[queue] = (count, _longest(head, now))
        return waiting, {state: int(next(replies)) for state in STATES}

    def read(
        self,
        *,
        now: datetime,
        callbacks: Callbacks | None = None,
        satisfaction: Satisfaction | None = None,
    ) -> SupervisorStats:
        periods = self.periods(now)
        queues = list(self._config.queues)
        minutes = [periods.minute - n for n in range(max(WINDOWS))]
        pipe = self._client.pipeline(transaction=False)
        for queue in queues:
            pipe.zcard(f"{P}waiting:{queue}")
            pipe.zrange(f"{P}waiting:{queue}", 0, 0, withscores=True)
            pipe.hgetall(f"{P}stats:day:{periods.day_key}:{queue}")
            for minute in minutes:
                pipe.hgetall(f"{P}stats:min:{minute}:{queue}")
        pipe.hgetall(f"{P}stats:occ:day:{periods.day_key}")
        for minute in minutes:
            pipe.hgetall(f"{P}stats:occ:min:{minute}")
        for state in STATES:
            pipe.smembers(f"{P}agents:{state}")
        replies = iter(pipe.execute())

        per_queue: dict[str, tuple[int, float, Counters, dict[int, Counters]]] = {}
        for queue in queues:
            waiting = int(next(replies))
            longest = _longest(next(replies), now)
            day = Counters.of(next(replies))
            windows = windows_of([Counters.of(next(replies)) for _ in minutes])
            per_queue[queue] = (waiting, longest, day, windows)
        time_today = StateTime.of(next(replies))
        time_by_minute = [StateTime.of(next(replies)) for _ in minutes]
        agent_ids = sorted({int(as_text(i)) for _ in STATES for i in next(replies)})
        agents = self._agents(agent_ids, periods)

        time_in = {
            "today": time_today,
            **{str(n): total_time(time_by_minute[:n]) for n in WINDOWS},
        }
        starts = dict(zip(["today", *map(str, WINDOWS)], periods.starts(), strict=True))
        for agent in agents:
            for period, start in starts.items():
                time_in[period] = time_in[period].plus(agent.state, agent.time_since(start, now))

        queue_figures = []
        for queue, (waiting, longest, day, windows) in per_queue.items():
            config = self._config.queues[queue]
            skilled = [agent for agent in agents if config.skill in agent.skills]
            queue_figures.append(
                QueueFigures(
                    queue=queue,
                    service_level_target=config.service_level_target or self._sl_target,
                    **self._live(waiting, longest, day, windows, skilled, None, None),
                )
            )
        overall = LiveFigures(
            service_level_target=self._sl_target,
            **self._live(
                sum(item[0] for item in per_queue.values()),
                max((item[1] for item in per_queue.values()), default=0.0),
                total(item[2] for item in per_queue.values()),
                {n: total(item[3][n] for item in per_queue.values()) for n in WINDOWS},
                agents,
                time_in,
                callbacks,
            ),
        )
        if satisfaction is not None:
            overall.today.csat = satisfaction.today
            for n in WINDOWS:
                getattr(overall, f"last_{n}_minutes").csat = satisfaction.in_window.get(n)
        return SupervisorStats(
            generated_at=now,
            day=periods.day,
            service_level_seconds=self._config.service_level_seconds,
            queues=queue_figures,
            overall=overall,
            agents=[_agent_figures(agent) for agent in agents],
        )

    def _live(
        self,
        waiting: int,
        longest: float,
        day: Counters,
        windows: Mapping[int, Counters],
        agents: Sequence[_Agent],
        time_in: Mapping[str, StateTime] | None,
        callbacks: Callbacks | None,
    ) -> dict[str, Any]:
        """One queue's (or every queue's) live figures, as the fields of `LiveFigures`."""
        by_state = dict.fromkeys(STATES, 0)
        for agent in agents:
            by_state[agent.state] = by_state.get(agent.state, 0) + 1

        def period(counters: Counters, key: str, counts: CallbackCounts | None) -> Figures:
            return figures(counters, time_in[key] if time_in else None, counts)

        return {
            "waiting": waiting,
            "longest_wait_seconds": round(longest, 1),
            "expected_wait_seconds": expected_wait(waiting, by_state, windows[60], day),
            "agents": by_state,
            "callbacks_due": callbacks.due if callbacks else None,
            "callbacks_holding": callbacks.holding if callbacks else None,
            "today": period(day, "today", callbacks.today if callbacks else None),
            **{
                f"last_{n}_minutes": period(
                    windows[n],
                    str(n),
                    callbacks.in_window.get(n, CallbackCounts()) if callbacks else None,
                )
                for n in WINDOWS
            },
        }

    def _agents(self, agent_ids: list[int], periods: Periods) -> list[_Agent]:
        pipe = self._client.pipeline(transaction=False)
        for agent_id in agent_ids:
            pipe.hmget(f"{P}agent:{agent_id}", ["state", "since", "reason", "skills"])
            pipe.hgetall(f"{P}stats:agent:{periods.day_key}:{agent_id}")
        replies = iter(pipe.execute())
        agents = []
        for agent_id in agent_ids:
            state, since, reason, skills = (
                as_text(v) if v is not None else "" for v in next(replies)
            )
            agents.append(
                _Agent(
                    agent_id=agent_id,
                    state=state or "offline",
                    since=datetime.fromtimestamp(float(since), UTC) if since else None,
                    reason=reason or None,
                    skills=json.loads(skills) if skills else {},
                    today=Counters.of(next(replies)),
                )
            )
        return agents


def _longest(head: Sequence[tuple[Any, float]], now: datetime) -> float:
    """Seconds the head of a waiting set (scored by arrival) has waited; 0 for nobody."""
    return max(now.timestamp() - float(head[0][1]), 0.0) if head else 0.0


def _agent_figures(agent: _Agent) -> AgentFigures:
    today = agent.today
    return AgentFigures(
        agent_id=agent.agent_id,
        state=agent.state,
        since=agent.since,
        reason=agent.reason,
        skills=agent.skills,
        handled=int(today.handled),
        talk_seconds=round(today.talk, 1),
        wrap_up_seconds=round(today.wrap_up, 1),
        missed_offers=int(today.missed_offers),
        aht_seconds=ratio(today.talk + today.wrap_up, today.handled, 1),
    )
