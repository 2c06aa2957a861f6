"""A realistic load on the hotline: Poisson arrivals, callers walking the menu, some patient and
some not, virtual agents who answer (or now and then miss) the app's calls."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from simulator.call import Call
from simulator.callers import Directory, HangUpAfter, Step, VirtualAgent, patience, random_journey
from simulator.callstats import CUT_OFF, PUT_THROUGH, WAITING, LoadReport
from simulator.exchange import Exchange
from simulator.flow import CallerHungUp

MENU_PATH = Path(__file__).resolve().parents[1] / "ivr" / "menus" / "bank.yaml"
# A caller's patience in the queue is exponential (many give up early, a few hold on long);
# the cap keeps a run bounded.
MAX_PATIENCE_SECONDS = 900.0
# Callers whose journey needs no agent (a case status) listen a moment, then hang up.
SELF_SERVICE_LINGER = (2.0, 8.0)
AFTER_TALK = frozenset({"dial-ended", "bridge-ended", "left-queue", "dequeued"})


@dataclass(frozen=True)
class LoadPlan:
    """What to simulate; times are simulated seconds, `rate` calls per simulated second."""

    calls: int = 100
    rate: float = 1.0
    agents: int = 0
    talk_mean_seconds: float = 180.0
    patience_mean_seconds: float = 90.0
    no_answer_probability: float = 0.03
    seed: int = 1


@dataclass(frozen=True)
class PlannedCall:
    at: float
    from_: str
    steps: list[Step]
    # The skill the journey's route asks for; None for a journey that needs no agent.
    skill: str | None


def load_menu(path: Path = MENU_PATH) -> dict[str, Any]:
    menu: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return menu


def menu_skills(menu: Mapping[str, Any]) -> list[str]:
    """The skills the menu's routes ask for, in the order the file names them."""
    skills = [str(route["skill"]) for route in menu["routes"].values() if route.get("skill")]
    return list(dict.fromkeys(skills))


def poisson_arrivals(rate: float, count: int, rng: random.Random) -> list[float]:
    """Arrival times (from 0) of `count` calls of a Poisson process at `rate` a second."""
    if rate <= 0:
        raise ValueError("rate must be positive")
    arrivals: list[float] = []
    moment = 0.0
    for _ in range(count):
        moment += rng.expovariate(rate)
        arrivals.append(moment)
    return arrivals


def plan_calls(plan: LoadPlan, menu: Mapping[str, Any], rng: random.Random) -> list[PlannedCall]:
    """Each caller's arrival, number, answers through the menu and patience in the queue."""
    routes: Mapping[str, Any] = menu["routes"]
    planned: list[PlannedCall] = []
    for at in poisson_arrivals(plan.rate, plan.calls, rng):
        journey = random_journey(menu, rng)
        # random_journey ends with its own hold time; the load draws patience instead.
        steps: list[Step] = [s for s in journey.steps if not isinstance(s, HangUpAfter)]
        skill = routes.get(journey.route or "", {}).get("skill")
        if skill is not None:
            wait = min(rng.expovariate(1 / plan.patience_mean_seconds), MAX_PATIENCE_SECONDS)
            steps.append(patience(wait))
        else:
            steps.append(HangUpAfter(rng.uniform(*SELF_SERVICE_LINGER)))
        number = f"+86138{rng.randrange(10**8):08d}"
        planned.append(PlannedCall(at, number, steps, str(skill) if skill else None))
    return planned


def agent_phones(plan: LoadPlan) -> Directory:
    """Who answers the app's `<Dial><Client>`: one pool of softphones with drawn talk times."""
    agent = VirtualAgent(
        talk_mean_seconds=plan.talk_mean_seconds,
        no_answer_probability=plan.no_answer_probability,
        rng=random.Random(plan.seed + 1),
    )
    return Directory(prefixes={"client:": agent})


@dataclass(frozen=True)
class Snapshot:
    """The run so far, for the live view."""

    offered: int = 0
    in_ivr: int = 0
    queued: int = 0
    talking: int = 0
    done: int = 0
    answered: int = 0
    abandoned: int = 0
    errors: int = 0
    sim_seconds: float = 0.0


def _phase(call: Call) -> str:
    """Where a live caller is, from the last note that moves them."""
    phase = "ivr"
    for event in call.record.events:
        what = getattr(event, "what", None)
        if what in WAITING:
            phase = "queued"
        elif what in PUT_THROUGH:
            phase = "talking"
        elif what in AFTER_TALK:
            phase = "ivr"
    return phase


@dataclass
class LoadRun:
    """Places the planned calls on an exchange and watches them until every one has ended."""

    exchange: Exchange
    number: str
    planned: Sequence[PlannedCall]
    placed: dict[str, PlannedCall] = field(default_factory=dict)
    wall_seconds: float = 0.0
    # Calls of earlier runs on the same exchange, left out of this run's report.
    earlier: frozenset[str] = field(init=False, default=frozenset())

    def __post_init__(self) -> None:
        self.earlier = frozenset(self.exchange.calls)

    async def run(self, time_limit: float | None = None) -> LoadReport:
        """Place every call on time; past `time_limit` real seconds the callers still on the
        line hang up (noted as cut off) so a run always ends."""
        clock = self.exchange.clock
        started, wall_started = clock.elapsed(), time.monotonic()
        placing = asyncio.create_task(self._place(started))
        everything = asyncio.ensure_future(self._finish(placing))
        done, _ = await asyncio.wait({everything}, timeout=time_limit)
        if not done:
            placing.cancel()
            for sid, call in list(self.exchange.calls.items()):
                if call.live and sid not in self.earlier:
                    call.note(CUT_OFF)
                    call.interrupt(CallerHungUp())
        await everything
        self.wall_seconds = time.monotonic() - wall_started
        return self.report()

    async def _place(self, started: float) -> None:
        clock = self.exchange.clock
        for planned in self.planned:
            await clock.sleep(planned.at - (clock.elapsed() - started))
            call = self.exchange.start_call_in(
                from_=planned.from_, to=self.number, script=planned.steps
            )
            self.placed[call.sid] = planned

    async def _finish(self, placing: asyncio.Task[None]) -> None:
        try:
            await placing
        except asyncio.CancelledError:
            # Cut off at the time limit: the calls already placed still end properly.
            if not placing.cancelled():
                raise
        await self.exchange.drain()

    def report(self) -> LoadReport:
        records = [
            call.record for sid, call in self.exchange.calls.items() if sid not in self.earlier
        ]
        skills = {sid: planned.skill for sid, planned in self.placed.items()}
        return LoadReport.from_records(records, skills)

    def snapshot(self) -> Snapshot:
        """Counts for the live view; call it on the exchange's event loop."""
        phases = {"ivr": 0, "queued": 0, "talking": 0, "done": 0}
        for sid in list(self.placed):
            call = self.exchange.calls[sid]
            phases["done" if not call.live else _phase(call)] += 1
        report = self.report()
        return Snapshot(
            offered=len(self.placed),
            in_ivr=phases["ivr"],
            queued=phases["queued"],
            talking=phases["talking"],
            done=phases["done"],
            answered=report.answered,
            abandoned=report.abandoned + report.short_abandons,
            errors=report.errors,
            sim_seconds=self.exchange.clock.elapsed(),
        )
