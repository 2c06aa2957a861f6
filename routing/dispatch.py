"""The router seen from the voice webhooks: each call event in, a placement out.

Async, one Lua run per event. Timers (escalation steps, offer expiry, wrap-up) live in the
router itself; only pushes over Twilio's REST API are RQ jobs, enqueued from a thread because
RQ's client is synchronous.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from functools import partial

import anyio
import redis

from routing import jobs
from routing.config import RoutingConfig
from routing.engine import Router
from routing.router_types import Departure, Placement, WaitCheck

log = logging.getLogger(__name__)

# Twilio's DialCallStatus values that mean the agent never took the call.
NOT_TAKEN = frozenset({"no-answer", "busy", "failed"})


@dataclass(frozen=True)
class Dispatch:
    router: Router
    jobs_redis: redis.Redis

    @property
    def config(self) -> RoutingConfig:
        return self.router.config

    async def push(self, call_sid: str, agent_id: int) -> None:
        """Have a job take a caller waiting in a Twilio queue out to the agent given to them."""
        try:
            await anyio.to_thread.run_sync(
                partial(jobs.schedule_push, self.jobs_redis, call_sid, agent_id)
            )
        except Exception:
            # The wait loop finds the offer by itself; a lost push costs one loop, not the call.
            log.exception("could not schedule the push of %s to agent %s", call_sid, agent_id)

    async def arrive(
        self,
        *,
        call_sid: str,
        skill: str,
        language: str,
        priority: int,
        enqueued_at: datetime,
        now: datetime,
        sticky_agent_id: int | None = None,
    ) -> Placement:
        return await self.router.arrive(
            call_sid=call_sid,
            queue=self.config.queue_for_skill(skill),
            language=language,
            priority=priority,
            enqueued_at=enqueued_at,
            now=now,
            sticky_agent_id=sticky_agent_id if self.config.sticky_agent else None,
        )

    async def wait(self, *, call_sid: str, twilio_queue_sid: str, now: datetime) -> WaitCheck:
        return await self.router.wait_check(
            call_sid=call_sid, twilio_queue_sid=twilio_queue_sid, now=now
        )

    async def current_offer(self, call_sid: str, agent_id: int | None = None) -> Placement | None:
        """The offer standing for this call (to this agent, if given), or None."""
        state = await self.router.call_state(call_sid)
        agent = state.get("agent", "")
        if state.get("state") != "offered" or not agent.isdigit():
            return None
        if agent_id is not None and int(agent) != agent_id:
            return None
        contact = await self.router.agent_contact(int(agent)) or ""
        return Placement(
            state="offered", agent_id=int(agent), queue=state.get("queue", ""), contact=contact
        )

    async def agent_answered(self, *, call_sid: str, agent_id: int, now: datetime) -> bool:
        placement = await self.router.offer_result(
            call_sid=call_sid, agent_id=agent_id, outcome="answered", now=now
        )
        return placement.state == "connected"

    async def dial_result(
        self, *, call_sid: str, agent_id: int, status: str, now: datetime
    ) -> Placement | None:
        """After the Dial: None if the call was taken (and is over), else where it goes next."""
        if status in NOT_TAKEN:
            placement = await self.router.offer_result(
                call_sid=call_sid, agent_id=agent_id, outcome=status, now=now
            )
            if placement.state != "stale":
                return placement
            return await self.current_offer(call_sid) or placement
        if status == "canceled":
            # The caller hung up while it rang: not the agent's fault.
            await self.call_ended(call_sid=call_sid, now=now)
            return None
        # completed / answered: the agent took it and the conversation is over.
        await self.router.offer_result(
            call_sid=call_sid, agent_id=agent_id, outcome="answered", now=now
        )
        await self.call_ended(call_sid=call_sid, now=now)
        return None

    async def call_ended(self, *, call_sid: str, now: datetime) -> Departure:
        departure = await self.router.call_gone(call_sid=call_sid, now=now)
        if departure.agent_id is not None and departure.next_call:
            # The freed agent was given a waiting caller at once.
            await self.push(departure.next_call, departure.agent_id)
        return departure
