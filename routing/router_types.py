"""What the router's operations take and give back: an agent's profile in, the script's
answers read into Python (the same for the async and the sync router)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


def as_text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode()
    return "" if value is None else str(value)


@dataclass(frozen=True)
class Placement:
    """Where a call stands after an operation."""

    state: str  # offered / waiting / connected / not_waiting / stale / ...
    agent_id: int | None = None
    queue: str = ""
    # Seconds until the call's next escalation step, None when there is none.
    next_step_in: int | None = None
    # How the offered agent takes calls: "client:agent_7" or "number:+86…".
    contact: str = ""
    # When the offer was made, as the router stored it (names the offer's expiry timer).
    offered_at: str = ""

    @classmethod
    def parse(cls, reply: list[Any]) -> Placement:
        state = as_text(reply[0])
        agent = as_text(reply[1]) if len(reply) > 1 else ""
        queue = as_text(reply[2]) if len(reply) > 2 else ""
        step = int(reply[3]) if len(reply) > 3 and reply[3] is not None else -1
        return cls(
            state=state,
            agent_id=int(agent) if agent.isdigit() else None,
            queue=queue,
            next_step_in=step if step >= 0 else None,
            contact=as_text(reply[4]) if len(reply) > 4 else "",
            offered_at=as_text(reply[5]) if len(reply) > 5 else "",
        )


@dataclass(frozen=True)
class WaitCheck:
    """The wait loop's answer: offered to an agent, or still waiting at a place."""

    offer: Placement | None
    place: int = 0
    waiting: int = 0
    state: str = ""
    # Seconds since the caller joined the queue (their first arrival, whatever happened since).
    waited: int = 0

    @classmethod
    def parse(cls, reply: list[Any]) -> WaitCheck:
        state = as_text(reply[0])
        if state == "offered":
            return cls(offer=Placement.parse(reply), state=state)
        if state == "waiting":
            waited = int(reply[3]) if len(reply) > 3 else 0
            return cls(
                offer=None, place=int(reply[1]), waiting=int(reply[2]), state=state, waited=waited
            )
        return cls(offer=None, state=state)


@dataclass(frozen=True)
class AgentOutcome:
    """What happened to an agent: their state, and a call offered to them if any."""

    state: str
    offered_call: str | None = None
    # For "refused": the state the router holds the agent in (reserved, busy).
    held_in: str | None = None

    @classmethod
    def parse(cls, reply: list[Any]) -> AgentOutcome:
        state = as_text(reply[0])
        second = as_text(reply[1]) if len(reply) > 1 else ""
        if state == "offered":
            return cls(state=state, offered_call=second or None)
        if state == "refused":
            return cls(state=state, held_in=second or None)
        return cls(state=state)


@dataclass(frozen=True)
class Departure:
    """What a caller's hanging up changed."""

    state: str  # abandoned / withdrawn / wrap_up / gone
    agent_id: int | None = None
    # withdrawn: the agent freed may have been given another waiting call at once.
    next_call: str | None = None
    since: str | None = None

    @classmethod
    def parse(cls, reply: list[Any]) -> Departure:
        state, agent, extra = (as_text(part) for part in reply[:3])
        # wrap_up: (since, a call given at once when there is no wrap-up time)
        after_wrap_up = as_text(reply[3]) if len(reply) > 3 else ""
        return cls(
            state=state,
            agent_id=int(agent) if agent.isdigit() else None,
            next_call=(extra if state == "withdrawn" else after_wrap_up) or None,
            since=extra if state == "wrap_up" else None,
        )


@dataclass(frozen=True)
class AgentProfile:
    """What matching needs to know about an agent."""

    agent_id: int
    skills: dict[str, int]
    languages: list[str]
    contact: str  # "client:agent_7" or "number:+8613800138000"
    calls_today: int = 0


@dataclass(frozen=True)
class HoldDial:
    """A call back to place now: the claim on one offer to a held caller."""

    phone: str
    language: str
    attempt: int
    offered_at: str


@dataclass(frozen=True)
class HoldOutcome:
    """An attempt to call a held caller back that came to nothing."""

    state: str  # retry / failed / stale
    agent_id: int | None = None
    # The freed agent may have been given a waiting caller at once.
    next_call: str | None = None
    attempt: int = 0

    @classmethod
    def parse(cls, reply: list[Any]) -> HoldOutcome:
        parts = [as_text(part) for part in reply] + ["", "", ""]
        return cls(
            state=parts[0],
            agent_id=int(parts[1]) if parts[1].isdigit() else None,
            next_call=parts[2] or None,
            attempt=int(parts[3]) if parts[3].isdigit() else 0,
        )
