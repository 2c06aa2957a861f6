"""Twilio queues: `<Enqueue>` with its waitUrl loop, `<Leave>`, and dequeueing to an agent."""

from __future__ import annotations

import asyncio
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from simulator.flow import (
    ApplicationError,
    Dequeued,
    Document,
    Interrupt,
    LeftQueue,
    Redirected,
)
from simulator.signing import new_sid
from simulator.twiml import attr_method, text_of

if TYPE_CHECKING:
    from simulator.call import Call

DEFAULT_MAX_SIZE = 1000
# With no waitUrl Twilio plays its own hold music; a failed waitUrl falls back to it too.
HOLD_MUSIC_SECONDS = 10.0


@dataclass(eq=False)
class Member:
    call: Call
    joined_at: float
    date_enqueued: datetime


@dataclass(eq=False)
class Queue:
    sid: str
    name: str
    created: datetime
    max_size: int = DEFAULT_MAX_SIZE
    members: list[Member] = field(default_factory=list)
    waits: list[float] = field(default_factory=list)
    arrival: asyncio.Event = field(default_factory=asyncio.Event)

    @classmethod
    def create(cls, name: str, created: datetime, max_size: int = DEFAULT_MAX_SIZE) -> Queue:
        return cls(new_sid("QU"), name, created, max_size)

    @property
    def full(self) -> bool:
        return len(self.members) >= self.max_size

    def average_wait(self) -> int:
        return round(sum(self.waits) / len(self.waits)) if self.waits else 0

    def join(self, call: Call) -> Member:
        member = Member(call, call.clock.elapsed(), call.clock.now())
        self.members.append(member)
        self.arrival.set()
        return member

    def position(self, member: Member) -> int:
        return self.members.index(member) + 1 if member in self.members else 0

    def find(self, call_sid: str) -> Member | None:
        if call_sid == "Front":
            return self.members[0] if self.members else None
        return next((m for m in self.members if m.call.sid == call_sid), None)

    def remove(self, member: Member) -> int:
        """Take the member out (idempotent); their time in queue in whole seconds."""
        waited = member.call.clock.elapsed() - member.joined_at
        if member in self.members:
            self.members.remove(member)
            self.waits.append(waited)
        if not self.members:
            self.arrival.clear()
        return round(waited)

    def wait_params(self, member: Member) -> dict[str, str]:
        return {
            "QueuePosition": str(self.position(member)),
            "QueueSid": self.sid,
            "QueueTime": str(round(member.call.clock.elapsed() - member.joined_at)),
            "AvgQueueTime": str(self.average_wait()),
            "CurrentQueueSize": str(len(self.members)),
            "MaxQueueSize": str(self.max_size),
        }


async def enqueue(
    call: Call, verb: ET.Element, document: Document, in_queue: bool
) -> Document | None:
    endpoint = call.exchange.endpoint
    queue = call.exchange.queue_named(text_of(verb))
    action_attr = verb.get("action")
    action = endpoint.resolve(action_attr, document.url) if action_attr else None
    method = attr_method(verb)
    if queue.full:
        call.note("queue-full", queue=queue.name)
        return await _after(call, action, method, queue, "queue-full", 0)
    member = queue.join(call)
    call.queue_member = (queue, member)
    call.start_waiting()
    call.note("enqueued", queue=queue.name, position=str(queue.position(member)))
    try:
        await _hold(call, queue, member, verb, document)
    except LeftQueue:
        waited = queue.remove(member)
        call.note("left-queue", queue=queue.name)
        return await _after(call, action, method, queue, "leave", waited)
    except Dequeued as dequeued:
        waited = queue.remove(member)
        if dequeued.bridge is None:
            call.note("dequeued", queue=queue.name)
            assert dequeued.url is not None
            extra = {"QueueResult": "redirected", "QueueSid": queue.sid, "QueueTime": str(waited)}
            return await call.follow(
                endpoint.resolve(dequeued.url), dequeued.method, extra, "dequeue-url"
            )
        return await _bridged(call, queue, dequeued, action, method, waited)
    except Redirected:
        queue.remove(member)
        raise
    except Interrupt as ended:
        waited = queue.remove(member)
        if action is not None:
            result = "error" if isinstance(ended, ApplicationError) else "hangup"
            call.status = "completed"
            extra = {"QueueResult": result, "QueueSid": queue.sid, "QueueTime": str(waited)}
            await call.notify(action, method, extra, "enqueue-action")
        raise
    finally:
        call.queue_member = None
    raise AssertionError("the hold loop only ends by an interruption")


async def _hold(
    call: Call, queue: Queue, member: Member, verb: ET.Element, document: Document
) -> None:
    """Play the waitUrl document again and again until something takes the caller out."""
    wait_url = verb.get("waitUrl")
    if not wait_url:
        while True:
            await call.wait(None)
    url = call.exchange.endpoint.resolve(wait_url, document.url)
    method = attr_method(verb, "waitUrlMethod")
    while True:
        current = await call.fetch(url, method, queue.wait_params(member), "wait-url")
        if current is None:
            await call.wait(HOLD_MUSIC_SECONDS)
            continue
        while current is not None:
            current = await call.execute(current, in_queue=True)
        # Yield (and take interrupts) even when the document had nothing that takes time.
        await call.wait(0)


async def _bridged(
    call: Call,
    queue: Queue,
    dequeued: Dequeued,
    action: str | None,
    method: str,
    waited: int,
) -> Document | None:
    bridge = dequeued.bridge
    assert bridge is not None
    call.note("bridged", queue=queue.name, agent_call_sid=bridge.agent_sid)
    call.put_through()
    extra = {"QueueResult": "bridged", "QueueSid": queue.sid, "QueueTime": str(waited)}
    try:
        if dequeued.url:
            # Played to the dequeued caller before the bridge; only its audio matters.
            announcement = await call.fetch(
                call.exchange.endpoint.resolve(dequeued.url), dequeued.method, {}, "dequeue-url"
            )
            if announcement is not None:
                await call.execute(announcement, in_queue=True)
        await call.wait(None, until=bridge.ended)
    except Interrupt:
        bridge.end("caller")
        if action is not None:
            call.status = "completed"
            await call.notify(action, method, extra, "enqueue-action")
        raise
    call.note("bridge-ended", by=bridge.ended_by)
    return await _after(call, action, method, queue, "bridged", waited)


async def _after(
    call: Call, action: str | None, method: str, queue: Queue, result: str, waited: int
) -> Document | None:
    if action is None:
        return None
    extra = {"QueueResult": result, "QueueSid": queue.sid, "QueueTime": str(waited)}
    return await call.follow(action, method, extra, "enqueue-action")
