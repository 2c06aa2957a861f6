"""A long run at volume on the emulator: calls placed on their simulated schedule, finished
calls folded into running figures and forgotten (an hour at 50 calls/s is 180,000 callers),
a line of figures every few simulated minutes, the whole run's figures at the end."""

from __future__ import annotations

import asyncio
import secrets
import time
from array import array
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import httpx

from simulator.callstats import CUT_OFF, CallOutcome, LoadReport
from simulator.exchange import Exchange
from simulator.flow import CallerHungUp
from simulator.governor import Governor
from simulator.load import PlannedCall
from simulator.provisioning import (
    ENGLISH_EVERY,
    PRIMARY_LEVEL,
    SECONDARY_LEVEL,
    AgentSpec,
    admin_client,
)
from simulator.transcript import CallRecord, percentile

# Ended calls stay this long (simulated) so late REST requests about them still find them.
KEEP_ENDED_SECONDS = 30.0
SWEEP_WALL_SECONDS = 5.0
# After the last arrival, callers still on the line after this long are cut off.
DRAIN_LIMIT_SECONDS = 1200.0
PROVISION_AT_ONCE = 8
SLOW_MS = 1000.0


def weighted_roster(count: int, planned: Sequence[PlannedCall], run_id: str) -> list[AgentSpec]:
    """`count` agents whose main skills follow the planned calls' shares of each skill (largest
    remainder), each with another skill as a second; one in three also speaks English."""
    shares = Counter(p.skill for p in planned if p.skill)
    skills = sorted(shares)
    total = sum(shares.values())
    exact = {skill: count * shares[skill] / total for skill in skills}
    seats = {skill: int(exact[skill]) for skill in skills}
    by_remainder = sorted(skills, key=lambda s: exact[s] - seats[s], reverse=True)
    for skill in by_remainder[: count - sum(seats.values())]:
        seats[skill] += 1
    roster = []
    mains = [skill for skill in skills for _ in range(seats[skill])]
    for index, main in enumerate(mains):
        # Seconds rotate over the other skills, so every queue has a reserve.
        second = skills[(skills.index(main) + 1 + index % max(1, len(skills) - 1)) % len(skills)]
        levels = {main: PRIMARY_LEVEL} | ({second: SECONDARY_LEVEL} if second != main else {})
        roster.append(
            AgentSpec(
                name=f"Hour Agent {index + 1:03d}",
                login=f"hour-{run_id}-{index + 1:03d}",
                password=secrets.token_urlsafe(16),
                skills=levels,
                languages=["zh", "en"] if index % ENGLISH_EVERY == 0 else ["zh"],
            )
        )
    return roster


@dataclass(frozen=True)
class RunSettings:
    minutes: float
    agents: int
    wrapup_seconds: float
    every_minutes: float
    admin_token: str
    url: str
    number: str


@dataclass
class Tally:
    """Everything swept so far."""

    outcomes: list[CallOutcome] = field(default_factory=list)
    latencies: array[float] = field(default_factory=lambda: array("d"))
    errors: Counter[int] = field(default_factory=Counter)
    # Requests slower than a second, by path: where a slow tail comes from.
    slow: Counter[str] = field(default_factory=Counter)
    # Requests by path: what a call costs the app, webhook by webhook.
    paths: Counter[str] = field(default_factory=Counter)

    def add(self, records: Sequence[CallRecord], placed: dict[str, PlannedCall]) -> None:
        for record in records:
            self.latencies.extend(request.latency_ms for request in record.requests)
            paths = [request.url.split("?", 1)[0].split("/", 3)[-1] for request in record.requests]
            self.paths.update(paths)
            self.slow.update(
                path
                for path, request in zip(paths, record.requests, strict=True)
                if request.latency_ms > SLOW_MS
            )
            self.errors.update(error.code for error in record.errors)
            planned = placed.pop(record.call_sid, None)
            if planned is not None:
                self.outcomes.append(CallOutcome.from_record(record, planned.skill))

    def report(self) -> LoadReport:
        return LoadReport.from_outcomes(
            self.outcomes, latencies=sorted(self.latencies), errors_by_code=dict(self.errors)
        )


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _secs(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} s"


@dataclass
class HourRun:
    exchange: Exchange
    settings: RunSettings
    planned: Sequence[PlannedCall]
    roster: Sequence[AgentSpec]
    governor: Governor
    tally: Tally = field(default_factory=Tally)
    placed: dict[str, PlannedCall] = field(default_factory=dict)
    app_figures: str = "not read"

    async def provision(self) -> None:
        """The roster created and made available through the API, a few at a time."""
        async with admin_client(self.settings.url, self.settings.admin_token) as client:

            async def one(spec: AgentSpec) -> None:
                created = await client.post("/api/agents", json=spec.payload())
                created.raise_for_status()
                agent_id = str(created.json()["id"])
                # The API answers before its transaction commits: another API process may not
                # see the agent for a moment yet.
                for _ in range(50):
                    state = {"state": "available"}
                    answer = await client.put(f"/api/agents/{agent_id}/state", json=state)
                    if answer.status_code != 404:
                        break
                    await asyncio.sleep(0.05)
                answer.raise_for_status()

            for start in range(0, len(self.roster), PROVISION_AT_ONCE):
                chunk = self.roster[start : start + PROVISION_AT_ONCE]
                await asyncio.gather(*(one(spec) for spec in chunk))

    async def run(self) -> list[str]:
        started = time.monotonic()
        await self.provision()
        self.say(f"{len(self.roster)} agents available after {time.monotonic() - started:.0f} s")
        clock = self.exchange.clock
        governing = asyncio.create_task(self.governor.run())
        sweeping = asyncio.create_task(self._sweep_forever())
        self.wall_started, self.sim_started = time.monotonic(), clock.elapsed()
        self.say(
            f"{'sim':>6} {'wall s':>7} {'speed':>6} {'offered':>8} {'ended':>8} "
            f"{'answered':>8} {'abandon':>7} {'SL20':>6} {'ASA':>7} {'p50 ms':>7} {'p99 ms':>7} "
            f"{'live':>6} {'flight':>6} {'lag ms':>6} {'backlog':>7}"
        )
        try:
            await self._place()
            await self._drain()
        finally:
            self.governor.stop()
            sweeping.cancel()
            await asyncio.gather(governing, sweeping, return_exceptions=True)
        self._sweep(0.0)
        self.app_figures = await self._app_figures()
        return self.summary()

    async def _app_figures(self) -> str:
        """Today's figures as the Hotline itself counted them: beside the emulator's, they tell
        a wait for agents (occupancy high) from a delay in handing callers to idle agents."""
        try:
            async with admin_client(self.settings.url, self.settings.admin_token) as client:
                answer = await client.get("/api/supervisor/stats")
                answer.raise_for_status()
        except httpx.HTTPError as exc:
            return f"unavailable ({exc!r})"
        today = answer.json()["overall"]["today"]
        return (
            f"SL {_pct(today['service_level'])}, ASA {_secs(today['asa_seconds'])}, "
            f"occupancy {_pct(today['occupancy'])} (talk + wrap-up / also idle available), "
            f"missed offers {today['missed_offers']}"
        )

    def say(self, line: str) -> None:
        print(line, flush=True)  # noqa: T201 - the run's progress, as it goes

    async def _place(self) -> None:
        clock = self.exchange.clock
        every = self.settings.every_minutes * 60
        next_line = every
        for planned in self.planned:
            while planned.at >= next_line:
                await clock.sleep(next_line - (clock.elapsed() - self.sim_started))
                self._progress(next_line)
                next_line += every
            await clock.sleep(planned.at - (clock.elapsed() - self.sim_started))
            call = self.exchange.start_call_in(
                from_=planned.from_, to=self.settings.number, script=planned.steps
            )
            self.placed[call.sid] = planned
        end = self.settings.minutes * 60
        await clock.sleep(end - (clock.elapsed() - self.sim_started))
        if next_line <= end + 1e-6:
            self._progress(end)

    async def _drain(self) -> None:
        clock = self.exchange.clock
        deadline = clock.elapsed() + DRAIN_LIMIT_SECONDS
        while any(call.live for call in self.exchange.calls.values()):
            if clock.elapsed() > deadline:
                await self.cut_off()
                break
            await clock.sleep(5.0)
        await self.exchange.drain()

    async def cut_off(self) -> None:
        """Every caller still on the line hangs up now (noted as cut off)."""
        for call in list(self.exchange.calls.values()):
            if call.live:
                call.note(CUT_OFF)
                call.interrupt(CallerHungUp())

    def _sweep(self, older_than: float) -> None:
        records = self.exchange.forget_finished(older_than)
        self.tally.add(records, self.placed)

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(SWEEP_WALL_SECONDS)
            self._sweep(KEEP_ENDED_SECONDS)

    def _progress(self, sim_seconds: float) -> None:
        self._sweep(KEEP_ENDED_SECONDS)
        report = self.tally.report()
        block = sorted(self.governor.transport.take_block())
        strain = self.governor.last
        minutes, seconds = divmod(round(sim_seconds), 60)
        self.say(
            f"{minutes:>3}:{seconds:02d} {time.monotonic() - self.wall_started:>7.0f} "
            f"{self.exchange.clock.speed:>5.1f}x {len(self.placed) + report.calls:>8} "
            f"{report.calls:>8} {report.answered:>8} {report.abandoned:>7} "
            f"{_pct(report.service_level):>6} {_secs(report.asa_seconds):>7} "
            f"{percentile(block, 0.5):>7.1f} {percentile(block, 0.99):>7.1f} "
            f"{len(self.placed):>6} {strain.in_flight:>6} "
            f"{strain.loop_lag_seconds * 1000:>6.0f} {strain.backlog:>7}"
        )

    def summary(self) -> list[str]:
        report = self.tally.report()
        wall = time.monotonic() - self.wall_started
        sim = self.exchange.clock.elapsed() - self.sim_started
        handled = sum(o.talk_seconds for o in self.tally.outcomes if o.answered)
        busy = handled + report.answered * self.settings.wrapup_seconds
        occupancy = busy / (self.settings.agents * self.settings.minutes * 60)
        latencies = sorted(self.tally.latencies)
        slowed = (
            ", ".join(f"{why} ×{n}" for why, n in self.governor.slowed_by.most_common())
            or "nothing"
        ) + f" (of {self.governor.steps} looks)"
        errors = ", ".join(f"{code}×{n}" for code, n in report.errors_by_code.items()) or "none"
        rows = [
            ("calls offered", f"{report.calls}"),
            (
                "reached a queue",
                f"{report.reached_queue} (ended in IVR: {report.ended_in_ivr})",
            ),
            ("answered", f"{report.answered}"),
            ("abandoned", f"{report.abandoned} (+ {report.short_abandons} short, under 5 s)"),
            ("cut off at the end", f"{report.cut_off}"),
            ("service level SL(20 s)", _pct(report.service_level)),
            ("ASA", _secs(report.asa_seconds)),
            ("AHT (talk)", _secs(report.aht_seconds)),
            ("abandon rate", _pct(report.abandon_rate)),
            (
                "queue wait p50 / p90",
                ", ".join(
                    f"{skill} {w.p50:.0f} / {w.p90:.0f} s ({w.calls})"
                    for skill, w in report.waits_by_skill.items()
                ),
            ),
            (
                "agent occupancy",
                f"{occupancy:.1%} (talk + wrap-up / {self.settings.agents} agents × arrivals)",
            ),
            ("the app's own figures", self.app_figures),
            ("webhook requests", f"{report.webhook_requests}"),
            (
                "webhook latency",
                f"p50 {report.latency_p50_ms:.1f} ms, p99 {report.latency_p99_ms:.1f} ms, "
                f"max {latencies[-1] if latencies else 0:.1f} ms",
            ),
            ("errors", errors),
            ("clock slowed by", slowed),
            (
                "over 1 s, by path",
                ", ".join(f"/{p} ×{n}" for p, n in self.tally.slow.most_common(5)) or "none",
            ),
            (
                "requests per call",
                ", ".join(
                    f"/{p} {n / max(1, report.calls):.2f}"
                    for p, n in self.tally.paths.most_common()
                ),
            ),
            ("simulated duration", f"{sim:.0f} s ({sim / 60:.1f} min, last callers included)"),
            ("wall duration", f"{wall:.0f} s ({wall / 60:.1f} min)"),
            ("compression", f"{sim / wall:.2f} simulated seconds per wall second"),
        ]
        return ["", *(f"{label:<23}{value}" for label, value in rows)]
