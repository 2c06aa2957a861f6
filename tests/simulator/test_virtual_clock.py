"""The emulator's adaptive clock, the governor that sets its speed, and the long run's helpers."""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from datetime import UTC, datetime

import httpx
import pytest

from hotline.sim_clock import Anchor
from simulator.exchange import PhoneNumber
from simulator.governor import CountingTransport, Governor, Limits
from simulator.hour import weighted_roster
from simulator.load import LoadPlan, load_menu, plan_calls
from simulator.virtual_clock import AdaptiveClock
from tests.simulator.apps import BANK, CALLER, TwimlApp, emulate, twiml

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.mark.anyio
async def test_sleepers_wake_in_simulated_order_across_speed_changes() -> None:
    clock = AdaptiveClock(100.0, START)
    woke: list[str] = []

    async def sleeper(name: str, seconds: float) -> None:
        await clock.sleep(seconds)
        woke.append(name)

    tasks = [asyncio.create_task(sleeper(n, s)) for n, s in [("c", 9.0), ("a", 3.0), ("b", 6.0)]]
    await asyncio.sleep(0.01)  # one simulated second passes
    clock.set_speed(400.0)  # the rest goes faster, and in the same order
    started = time.monotonic()
    await asyncio.gather(*tasks)
    assert woke == ["a", "b", "c"]
    # 8 simulated seconds left at 400× is 20 ms; at 100× it would have been 80 ms.
    assert time.monotonic() - started < 0.07
    assert clock.elapsed() >= 9.0


@pytest.mark.anyio
async def test_a_cancelled_sleeper_is_skipped_and_time_never_jumps() -> None:
    published: list[Anchor] = []
    clock = AdaptiveClock(50.0, START, publish=published.append)
    doomed = asyncio.create_task(clock.sleep(0.5))
    await asyncio.sleep(0)
    doomed.cancel()
    before = clock.elapsed()
    clock.set_speed(5.0)
    assert clock.elapsed() == pytest.approx(before, abs=0.05)  # continuous at the change
    await clock.sleep(0.05)  # still wakes although an earlier timer was cancelled
    assert doomed.cancelled()
    # Published at the start and at the change, in the app's terms: epoch seconds and speed.
    assert [a.speed for a in published] == [50.0, 5.0]
    assert published[-1].sim == pytest.approx(START.timestamp() + before, abs=0.05)
    assert clock.now() > START


class _Answer(httpx.AsyncBaseTransport):
    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return httpx.Response(200)


@pytest.mark.anyio
async def test_the_governor_slows_down_under_strain_and_speeds_up_when_easy() -> None:
    clock = AdaptiveClock(10.0, START)
    transport = CountingTransport(_Answer())
    backlog = {"jobs": 0}
    governor = Governor(
        clock, transport, backlog=lambda: backlog["jobs"], limits=Limits(backlog=100)
    )
    async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
        await client.get("/")
    assert transport.in_flight == 0 and len(transport.recent_ms) == 1
    assert governor.step(lag=0.0) > 10.0  # easy: a little faster
    backlog["jobs"] = 500
    strained = governor.step(lag=0.0)
    assert strained < 10.0  # the workers fall behind: at once slower
    backlog["jobs"] = 0
    assert governor.step(lag=0.5) < strained  # the emulator's own loop is late
    transport.recent_ms = [400.0] * 10
    assert governor.step(lag=0.0) < strained  # webhooks are slow
    assert governor.last.p90_ms == 400.0
    assert governor.slowed_by == {"backlog": 1, "loop lag": 1, "p90": 1}
    assert governor.steps == 4


@pytest.mark.anyio
async def test_the_governor_holds_while_a_backlog_is_worked_off() -> None:
    clock = AdaptiveClock(10.0, START)
    backlog = {"jobs": 500}
    governor = Governor(
        clock, CountingTransport(_Answer()), backlog=lambda: backlog["jobs"],
        limits=Limits(backlog=100),
    )  # fmt: skip
    slowed = governor.step(lag=0.0)
    assert slowed < 10.0  # over the limit and growing (from nothing): slower
    backlog["jobs"] = 400
    assert governor.step(lag=0.0) == slowed  # over, but shrinking: held, neither way
    backlog["jobs"] = 450
    slower = governor.step(lag=0.0)
    assert slower < slowed  # growing again: slower again
    backlog["jobs"] = 0
    assert governor.step(lag=0.0) > slower  # easy: faster
    assert governor.slowed_by == {"backlog": 2}


def test_the_roster_follows_the_traffic_of_each_skill() -> None:
    planned = plan_calls(LoadPlan(calls=5000, rate=50), load_menu(), random.Random(3))
    roster = weighted_roster(500, planned, "t")
    assert len(roster) == 500
    mains = Counter(max(a.skills, key=lambda s: a.skills[s]) for a in roster)
    wanted = Counter(p.skill for p in planned if p.skill)
    total = sum(wanted.values())
    for skill, calls in wanted.items():
        assert abs(mains[skill] - 500 * calls / total) <= 1
    # Everyone has a second skill, never the same as the main one.
    assert all(len(a.skills) == 2 for a in roster)
    assert len({a.login for a in roster}) == 500


@pytest.mark.anyio
async def test_finished_calls_are_forgotten_once_old_enough_and_live_ones_kept() -> None:
    app = TwimlApp(
        {
            "/voice": lambda p: twiml('<Say>hello</Say><Pause length="30"/><Hangup/>'),
            "/quick": lambda p: twiml("<Hangup/>"),
        }
    )
    numbers = [PhoneNumber(BANK, "/voice"), PhoneNumber("+864008890000", "/quick")]
    async with emulate(app, numbers=numbers) as exchange:
        done = await exchange.call_in(from_=CALLER, to="+864008890000", script=[])
        long_call = exchange.start_call_in(from_=CALLER, to=BANK, script=[])
        assert exchange.forget_finished(older_than=3600) == []  # ended too recently
        await exchange.clock.sleep(2)
        forgotten = exchange.forget_finished(older_than=1)
        assert [r.call_sid for r in forgotten] == [done.call_sid]
        assert set(exchange.calls) == {long_call.sid}
        await exchange.wait_for(long_call.sid)
