from __future__ import annotations

import random
import time
from pathlib import Path

import pytest
import yaml

from simulator.callers import (
    Press,
    Script,
    Speak,
    VirtualAgent,
    hangup_after,
    press,
    random_journey,
    silence,
)
from simulator.clock import SimClock

MENU = Path(__file__).resolve().parents[2] / "ivr" / "menus" / "bank.yaml"


def test_a_script_answers_in_order_and_arms_hang_up_timers() -> None:
    script = Script([press("2"), hangup_after(30), silence()])
    assert script.next_answer() == press("2")
    assert script.pending_timer() == 30
    assert script.next_answer() == silence()
    assert script.next_answer() is None


def test_random_journeys_follow_the_menu_file_to_a_route() -> None:
    menu = yaml.safe_load(MENU.read_text(encoding="utf-8"))
    for seed in range(50):
        journey = random_journey(menu, random.Random(seed), silence_probability=0)
        node = menu["nodes"][menu["start"]]
        route = None
        for step in journey.steps[:-1]:
            assert isinstance(step, Press | Speak)
            if isinstance(step, Speak):
                choice = next(c for c in node["choices"] if step.text in str(c.get("speech")))
            elif node.get("collect"):
                assert len(step.digits) == 13 and step.digits.endswith("#")
                break
            else:
                choice = next(c for c in node["choices"] if c["key"] == step.digits)
            if "goto" in choice:
                node = menu["nodes"][choice["goto"]]
            route = choice.get("route", route)
        assert route == journey.route
        assert journey.route is None or journey.route in menu["routes"]


def test_virtual_agents_draw_talk_times_around_the_mean() -> None:
    agent = VirtualAgent(talk_mean_seconds=120, rng=random.Random(1))
    talks = [agent.pickup(to="client:a").talk_seconds for _ in range(2000)]
    assert 105 < sum(talks) / len(talks) < 135
    lazy = VirtualAgent(no_answer_probability=1.0, rng=random.Random(1))
    assert lazy.pickup(to="client:a").outcome == "no-answer"


@pytest.mark.anyio
async def test_the_clock_compresses_waits_by_the_speed_factor() -> None:
    clock = SimClock(speed=100)
    started = time.monotonic()
    await clock.sleep(6)
    assert time.monotonic() - started >= 0.05
    assert clock.elapsed() >= 6
