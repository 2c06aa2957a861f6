"""How a call's control flow moves: documents to run next, and the interruptions that end
or divert a verb (hang-ups, REST redirects, dequeues)."""

from __future__ import annotations

import asyncio
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Document:
    """A TwiML document and the URL it came from (relative URLs in it resolve against it)."""

    root: ET.Element
    url: str


class Interrupt(Exception):
    """Ends the verb being executed; raised out of `Call.wait`."""


class CallerHungUp(Interrupt):
    """The person on this leg hung up (caller, or the virtual agent on an agent leg)."""


class AppHungUp(Interrupt):
    """`<Hangup/>` from the app."""


class CallRejected(Interrupt):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ApplicationError(Interrupt):
    """A fatal webhook error: Twilio says 'an application error has occurred' and hangs up."""


class EndedByApi(Interrupt):
    """`calls(sid).update(status=completed|canceled)`."""

    def __init__(self, status: str) -> None:
        super().__init__(status)
        self.status = status


class MaxDurationReached(Interrupt):
    """Safety stop for a runaway simulation (a wait with no end, a request loop)."""


class Redirected(Interrupt):
    """`calls(sid).update(url=…)` or `twiml=…`: abandon the current document."""

    def __init__(self, *, url: str | None, method: str, twiml: str | None) -> None:
        super().__init__(url or "twiml")
        self.url = url
        self.method = method
        self.twiml = twiml


class LeftQueue(Interrupt):
    """`<Leave/>` inside a waitUrl document."""


@dataclass(eq=False)
class Bridge:
    """Two legs talking; either side ending it wakes the other."""

    agent_sid: str
    member_sid: str
    started_at: float
    ended: asyncio.Event = field(default_factory=asyncio.Event)
    ended_by: str = ""

    def end(self, by: str) -> None:
        if not self.ended.is_set():
            self.ended_by = by
            self.ended.set()


class Dequeued(Interrupt):
    """Taken out of a queue: by an agent's `<Dial><Queue>` (bridge) or a REST member update."""

    def __init__(self, *, url: str | None, method: str, bridge: Bridge | None) -> None:
        super().__init__(url or "bridge")
        self.url = url
        self.method = method
        self.bridge = bridge
