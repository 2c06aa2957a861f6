"""The router's operations in Python: one Lua run each, on an async or a sync Redis client.

The voice webhooks use `Router` (async); jobs and the agent API use `SyncRouter`. Both run the
same script (routing/lua/) and read its answers the same way.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import redis
import redis.asyncio as aioredis

from routing.config import RoutingConfig, utc_offsets
from routing.router_types import (
    AgentOutcome,
    AgentProfile,
    Departure,
    HoldDial,
    HoldOutcome,
    Placement,
    WaitCheck,
    as_text,
)

# One script in four files: the state and its helpers, the figures, virtual holds, then the
# operations on it.
SCRIPT = "\n".join(
    (Path(__file__).parent / "lua" / name).read_text(encoding="utf-8")
    for name in ("state.lua", "stats.lua", "holds.lua", "operations.lua")
)
EVENTS_STREAM = "{rt}:events"


def _t(moment: datetime) -> str:
    return f"{moment.timestamp():.3f}"


# After the ring time, how long an offer waits for Twilio's word before it is taken back.
OFFER_GRACE_SECONDS = 30


def _configure_args(config: RoutingConfig) -> list[str]:
    document = {
        "queues": json.loads(config.as_lua_json()),
        "languages": config.languages,
        "strategy": str(config.strategy),
        "ring_timeout": config.ring_timeout_seconds,
        "offer_grace": OFFER_GRACE_SECONDS,
        "wrap_up": config.wrap_up_seconds,
        "service_level_seconds": config.service_level_seconds,
        "short_abandon_seconds": config.short_abandon_seconds,
        "hold_ring": config.virtual_hold_calls.ring_seconds,
        "hold_attempts": config.virtual_hold_calls.attempts,
        "hold_retry": config.virtual_hold_calls.retry_after_seconds,
        # From two days back: a late event still lands on its own local day.
        "utc_offsets": utc_offsets(config.timezone, start=datetime.now(UTC) - timedelta(days=2)),
    }
    return ["configure", json.dumps(document, separators=(",", ":"))]


def _arrive_args(
    config: RoutingConfig,
    *,
    call_sid: str,
    queue: str,
    language: str,
    priority: int,
    enqueued_at: datetime,
    now: datetime,
    sticky_agent_id: int | None,
) -> list[str]:
    return [
        "arrive", _t(now), call_sid, queue, language, str(priority), _t(enqueued_at),
        str(config.credit(priority)), str(sticky_agent_id or ""),
    ]  # fmt: skip


def _ready_args(agent: AgentProfile, now: datetime, actor: str) -> list[str]:
    return [
        "agent_ready", _t(now), str(agent.agent_id),
        json.dumps(agent.skills, separators=(",", ":")),
        json.dumps(agent.languages, separators=(",", ":")),
        str(agent.calls_today), agent.contact, actor,
    ]  # fmt: skip


class Router:
    """Async operations, for the voice webhooks."""

    def __init__(self, client: aioredis.Redis, config: RoutingConfig) -> None:
        self.config = config
        self._script = client.register_script(SCRIPT)
        self._client = client

    async def _run(self, args: list[str]) -> list[Any]:
        try:
            reply = await self._script(keys=[], args=args)
        except redis.ResponseError as exc:
            if "unknown queue" not in str(exc):
                raise
            # Redis lost our configuration (a restart without persistence): put it back once.
            await self.configure()
            reply = await self._script(keys=[], args=args)
        return list(reply)

    async def configure(self) -> None:
        await self._script(keys=[], args=_configure_args(self.config))

    async def arrive(
        self,
        *,
        call_sid: str,
        queue: str,
        language: str,
        priority: int,
        enqueued_at: datetime,
        now: datetime,
        sticky_agent_id: int | None = None,
    ) -> Placement:
        args = _arrive_args(
            self.config, call_sid=call_sid, queue=queue, language=language, priority=priority,
            enqueued_at=enqueued_at, now=now, sticky_agent_id=sticky_agent_id,
        )  # fmt: skip
        return Placement.parse(await self._run(args))

    async def offer_result(
        self, *, call_sid: str, agent_id: int, outcome: str, now: datetime
    ) -> Placement:
        reply = await self._run(["offer_result", _t(now), call_sid, str(agent_id), outcome])
        return Placement.parse(reply)

    async def call_gone(self, *, call_sid: str, now: datetime) -> Departure:
        return Departure.parse(await self._run(["call_gone", _t(now), call_sid]))

    async def wait_check(self, *, call_sid: str, twilio_queue_sid: str, now: datetime) -> WaitCheck:
        reply = await self._run(["wait", _t(now), call_sid, twilio_queue_sid])
        return WaitCheck.parse(reply)

    async def hold(self, *, call_sid: str, phone: str, now: datetime) -> Placement:
        """Keep a waiting caller's place while they are called back: state "held"; "offered"
        if an agent was found for them first; anything else if they no longer wait."""
        return Placement.parse(await self._run(["hold", _t(now), call_sid, phone]))

    async def hold_answered(
        self, *, entry: str, agent_id: int, offered_at: str, call_sid: str, now: datetime
    ) -> Placement:
        """The held caller picked up our call `call_sid`: it now stands offered to the agent."""
        reply = await self._run(
            ["hold_answered", _t(now), entry, str(agent_id), offered_at, call_sid]
        )
        return Placement.parse(reply)

    async def hold_result(
        self, *, entry: str, offered_at: str, outcome: str, now: datetime
    ) -> HoldOutcome:
        reply = await self._run(["hold_result", _t(now), entry, offered_at, outcome])
        return HoldOutcome.parse(reply)

    async def call_state(self, call_sid: str) -> dict[str, str]:
        raw: dict[str, str] = await self._client.hgetall(f"{{rt}}:call:{call_sid}")  # type: ignore[assignment]
        return raw

    async def agent_contact(self, agent_id: int) -> str | None:
        contact: str | None = await self._client.hget(f"{{rt}}:agent:{agent_id}", "contact")  # type: ignore[assignment]
        return contact or None


class SyncRouter:
    """The same operations, synchronous: for jobs and the agent API."""

    def __init__(self, client: redis.Redis, config: RoutingConfig) -> None:
        self.config = config
        self._script = client.register_script(SCRIPT)
        self._client = client

    def _run(self, args: list[str]) -> list[Any]:
        try:
            reply = self._script(keys=[], args=args)
        except redis.ResponseError as exc:
            if "unknown queue" not in str(exc):
                raise
            self.configure()
            reply = self._script(keys=[], args=args)
        return list(reply)

    def configure(self) -> None:
        self._script(keys=[], args=_configure_args(self.config))

    @property
    def connection(self) -> redis.Redis:
        """Its Redis client, which RQ can use too (the same server holds the jobs)."""
        return self._client

    def arrive(
        self,
        *,
        call_sid: str,
        queue: str,
        language: str,
        priority: int,
        enqueued_at: datetime,
        now: datetime,
        sticky_agent_id: int | None = None,
    ) -> Placement:
        args = _arrive_args(
            self.config, call_sid=call_sid, queue=queue, language=language, priority=priority,
            enqueued_at=enqueued_at, now=now, sticky_agent_id=sticky_agent_id,
        )  # fmt: skip
        return Placement.parse(self._run(args))

    def escalate(self, *, call_sid: str, now: datetime) -> Placement:
        return Placement.parse(self._run(["escalate", _t(now), call_sid]))

    def offer_result(
        self, *, call_sid: str, agent_id: int, outcome: str, now: datetime
    ) -> Placement:
        return Placement.parse(
            self._run(["offer_result", _t(now), call_sid, str(agent_id), outcome])
        )

    def call_gone(self, *, call_sid: str, now: datetime) -> Departure:
        return Departure.parse(self._run(["call_gone", _t(now), call_sid]))

    def agent_ready(self, *, agent: AgentProfile, now: datetime, actor: str = "") -> AgentOutcome:
        """`actor`: the person who asked (their change is on record already), '' for the system."""
        return AgentOutcome.parse(self._run(_ready_args(agent, now, actor)))

    def agent_away(
        self, *, agent_id: int, state: str, reason: str, now: datetime, actor: str = ""
    ) -> AgentOutcome:
        reply = self._run(["agent_away", _t(now), str(agent_id), state, reason, actor])
        return AgentOutcome.parse(reply)

    def move(
        self, *, call_sid: str, queue: str | None, priority: int | None, now: datetime
    ) -> Placement:
        """Move a waiting caller to another queue and/or priority, keeping their arrival time."""
        credit = self.config.credit(priority) if priority is not None else 0
        reply = self._run(
            ["move", _t(now), call_sid, queue or "", str(priority or ""), str(credit)]
        )
        return Placement.parse(reply)

    def tick(self, *, now: datetime) -> tuple[int, list[tuple[str, int]]]:
        """Fire due timers; (how many, offers to push as (call, agent))."""
        reply = self._run(["tick", _t(now)])
        pairs = [as_text(part) for part in reply[1:]]
        return int(reply[0]), [(pairs[n], int(pairs[n + 1])) for n in range(0, len(pairs) - 1, 2)]

    def events_after(self, last_id: str, count: int) -> list[tuple[str, dict[str, str]]]:
        """Router events after `last_id`, oldest first."""
        raw: list[tuple[bytes, dict[bytes, bytes]]] = self._client.xrange(  # type: ignore[assignment]
            EVENTS_STREAM, min=f"({last_id}", count=count
        )
        return [
            (key.decode(), {name.decode(): value.decode() for name, value in fields.items()})
            for key, fields in raw
        ]

    def hold(self, *, call_sid: str, phone: str, now: datetime) -> Placement:
        return Placement.parse(self._run(["hold", _t(now), call_sid, phone]))

    def hold_dial(self, *, entry: str, agent_id: int, now: datetime) -> HoldDial | None:
        """Claim the call back of a held caller offered to this agent; None if it is not (or
        no longer) theirs, or its call is placed already."""
        reply = [as_text(part) for part in self._run(["hold_dial", _t(now), entry, str(agent_id)])]
        if reply[0] != "dial":
            return None
        return HoldDial(phone=reply[1], language=reply[2], attempt=int(reply[3]),
                        offered_at=reply[4])  # fmt: skip

    def hold_result(
        self, *, entry: str, offered_at: str, outcome: str, now: datetime
    ) -> HoldOutcome:
        return HoldOutcome.parse(self._run(["hold_result", _t(now), entry, offered_at, outcome]))

    def wrap_up_done(self, *, agent_id: int, since: str, now: datetime) -> AgentOutcome:
        return AgentOutcome.parse(self._run(["wrap_up_done", _t(now), str(agent_id), since]))

    def call_state(self, call_sid: str) -> dict[str, str]:
        raw: dict[bytes, bytes] = self._client.hgetall(f"{{rt}}:call:{call_sid}")  # type: ignore[assignment]
        return {key.decode(): value.decode() for key, value in raw.items()}

    def agent_state(self, agent_id: int) -> dict[str, str]:
        raw: dict[bytes, bytes] = self._client.hgetall(f"{{rt}}:agent:{agent_id}")  # type: ignore[assignment]
        return {key.decode(): value.decode() for key, value in raw.items()}
