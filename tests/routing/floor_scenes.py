"""Scenes on the floor for alert and history tests: the router driven on the test clock."""

from __future__ import annotations

from hotline.clock import FrozenClock
from routing import jobs
from tests.routing.test_engine import agent


def arrive(clock: FrozenClock, call_sid: str, queue: str = "cards") -> str:
    placement = jobs.router().arrive(
        call_sid=call_sid, queue=queue, language="zh", priority=3,
        enqueued_at=clock.now(), now=clock.now(),
    )  # fmt: skip
    return placement.state


def talking_agent(clock: FrozenClock, agent_id: int = 1, **skills: int) -> None:
    """An agent signed in and busy on a call answered within 5 s (within the service level)."""
    router = jobs.router()
    router.agent_ready(agent=agent(agent_id, **(skills or {"cards": 8})), now=clock.now())
    queue = next(iter(skills or {"cards": 8}))
    assert arrive(clock, f"CA-talk-{agent_id}", queue) == "offered"
    clock.advance(5)
    router.offer_result(
        call_sid=f"CA-talk-{agent_id}", agent_id=agent_id, outcome="answered", now=clock.now()
    )


def abandons(clock: FrozenClock, count: int, *, after: float = 25, queue: str = "cards") -> None:
    """`count` callers one after another, each hanging up after `after` seconds of waiting."""
    for n in range(count):
        arrive(clock, f"CA-gone-{queue}-{n}", queue)
        clock.advance(after)
        jobs.router().call_gone(call_sid=f"CA-gone-{queue}-{n}", now=clock.now())


def service_level_slips(clock: FrozenClock, *, abandoned: int) -> None:
    """One call answered within 20 s while `abandoned` more give up after 25 s: the cards
    queue's SL is 1 / (1 + abandoned), over 1 + abandoned calls."""
    talking_agent(clock)
    abandons(clock, abandoned)
