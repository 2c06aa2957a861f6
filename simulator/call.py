"""One call leg as Twilio runs it: fetch TwiML, execute it verb by verb, honour interruptions."""

from __future__ import annotations

import asyncio
import xml.etree.ElementTree as ET
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from typing import TYPE_CHECKING, Any

from simulator import dialing, queueing, verbs
from simulator.callbacks import StatusCallbacks
from simulator.callers import Press, Script, Silence, Speak, Speech
from simulator.flow import (
    AppHungUp,
    ApplicationError,
    CallerHungUp,
    CallRejected,
    Document,
    EndedByApi,
    Interrupt,
    MaxDurationReached,
    Redirected,
)
from simulator.signing import new_sid
from simulator.transcript import CallError, CallRecord, Note, Said
from simulator.twiml import WAIT_VERBS, TwimlError, parse_document
from simulator.webhook import fetch_twiml, post_callback

if TYPE_CHECKING:
    from simulator.exchange import Exchange
    from simulator.queueing import Member, Queue

VerbHandler = Callable[["Call", ET.Element, Document, bool], Awaitable[Document | None]]
VERBS: dict[str, VerbHandler] = {
    "Say": verbs.say,
    "Play": verbs.play,
    "Pause": verbs.pause,
    "Hangup": verbs.hangup,
    "Reject": verbs.reject,
    "Redirect": verbs.redirect,
    "Leave": verbs.leave,
    "Gather": verbs.gather,
    "Record": verbs.record,
    "Enqueue": queueing.enqueue,
    "Dial": dialing.dial,
}
APPLICATION_ERROR_TEXT = "We are sorry, an application error has occurred. Goodbye."


class Call:
    """A live call: its state, its script, and the single place where simulated time passes."""

    def __init__(
        self,
        exchange: Exchange,
        *,
        direction: str,
        from_: str,
        to: str,
        script: Script,
        callbacks: StatusCallbacks | None = None,
        talk_seconds: float | None = None,
        sid: str | None = None,
    ) -> None:
        self.exchange = exchange
        self.clock = exchange.clock
        self.sid = sid or new_sid("CA")
        self.direction = direction
        self.from_ = from_
        self.to = to
        self.script = script
        # How long the person on this leg talks once bridged; None: until their script ends it.
        self.talk_seconds = talk_seconds
        self.queue_member: tuple[Queue, Member] | None = None
        self.record = CallRecord(self.sid, direction, from_, to)
        self.callbacks = callbacks
        self.status = "queued"
        self.answered_at: float | None = None
        # AnsweredBy, when the call was placed with machine detection.
        self.answered_by: str | None = None
        self.hangup_at: float | None = None
        # Patience: seconds the caller will wait for a person, counted from when the wait
        # starts (queue or Dial) and forgotten once someone answers.
        self.patience: float | None = None
        self.created_at = self.clock.now()
        self.document_url = exchange.endpoint.resolve("/")
        self._max_end = self.clock.elapsed() + exchange.max_call_seconds
        self._requests = 0
        self._pending: Interrupt | None = None
        self._signal = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def live(self) -> bool:
        return self.status in {"queued", "ringing", "in-progress"}

    def params(self, **extra: str) -> dict[str, str]:
        """The parameters Twilio puts on every voice request for this leg."""
        base = {
            "CallSid": self.sid,
            "AccountSid": self.exchange.account_sid,
            "From": self.from_,
            "To": self.to,
            "Caller": self.from_,
            "Called": self.to,
            "CallStatus": self.status,
            "ApiVersion": "2010-04-01",
            "Direction": self.direction,
        }
        return base | extra

    def queue_params(self) -> dict[str, str]:
        """The queue parameters of waitUrl requests, while the call waits in a queue."""
        if self.queue_member is None:
            return {}
        queue, member = self.queue_member
        return queue.wait_params(member)

    def note(self, what: str, **detail: str) -> None:
        self.record.events.append(Note(self.clock.elapsed(), what, detail))

    def interrupt(self, exc: Interrupt) -> None:
        """Deliver a REST update, dequeue or bridge end to whatever the call is doing."""
        self._pending = exc
        self._signal.set()

    def raise_pending(self) -> None:
        if self._pending is not None:
            exc, self._pending = self._pending, None
            self._signal.clear()
            raise exc

    def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        """Background work (recording callbacks) that the call waits for before it is over."""
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def wait(self, seconds: float | None, until: asyncio.Event | None = None) -> bool:
        """Let simulated time pass; True if `until` fired first. Raises the call's interrupts."""
        self.raise_pending()
        if until is not None and until.is_set():
            return True
        now = self.clock.elapsed()
        limit = seconds
        stop: type[Interrupt] | None = None
        for deadline, reason in (
            (self.hangup_at, CallerHungUp),
            (self._max_end, MaxDurationReached),
        ):
            if deadline is not None and (limit is None or deadline - now <= limit):
                limit, stop = max(0.0, deadline - now), reason
        waiters: list[asyncio.Task[Any]] = [asyncio.create_task(self._signal.wait())]
        if until is not None:
            waiters.append(asyncio.create_task(until.wait()))
        if limit is not None:
            waiters.append(asyncio.create_task(self.clock.sleep(limit)))
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
            await asyncio.gather(*waiters, return_exceptions=True)
        self.raise_pending()
        if until is not None and until.is_set():
            return True
        if stop is not None:
            if stop is CallerHungUp:
                self.note("caller-hung-up")
            raise stop()
        return False

    def arm_timers(self) -> None:
        while (timer := self.script.next_timer()) is not None:
            if timer.while_waiting:
                self.patience = timer.seconds
            else:
                self.hangup_at = self.clock.elapsed() + timer.seconds

    def start_waiting(self) -> None:
        """The caller now waits for a person (joined a queue, or a Dial rings): patience runs.

        A second wait (re-queued after an agent missed the call) keeps the first deadline.
        """
        if self.patience is not None and self.hangup_at is None:
            self.hangup_at = self.clock.elapsed() + self.patience

    def put_through(self) -> None:
        """Someone answered this caller (an agent's Dial, a bridge): patience no longer runs."""
        if self.patience is not None:
            self.patience = None
            self.hangup_at = None

    def next_answer(self) -> Press | Speak | Silence | Speech:
        """The caller's answer to a Gather or Record; a caller with no script left hangs up."""
        self.arm_timers()
        answer = self.script.next_answer()
        self.arm_timers()
        if answer is None:
            # A patient caller keeps quiet in the menus until the wait for a person begins.
            if self.hangup_at is None and self.patience is None:
                self.note("caller-hung-up", reason="script finished")
                raise CallerHungUp()
            return Silence()
        return answer

    def answer(self) -> None:
        if self.answered_at is not None:
            return
        self.status = "in-progress"
        self.answered_at = self.clock.elapsed()
        self.arm_timers()
        if self.callbacks is not None:
            self.callbacks.emit("answered", self.params(), {})

    def _count_request(self) -> None:
        self._requests += 1
        if self._requests > self.exchange.max_requests_per_call:
            self.note("max-requests", limit=str(self.exchange.max_requests_per_call))
            raise MaxDurationReached()

    async def fetch(
        self, url: str, method: str, extra: Mapping[str, str], purpose: str
    ) -> Document | None:
        """Request TwiML; None (error recorded) when Twilio could not use the answer."""
        self._count_request()
        root = await fetch_twiml(
            self.exchange.endpoint,
            self.clock,
            self.record.events,
            method=method,
            url=url,
            params=self.params(**extra),
            purpose=purpose,
        )
        if root is None:
            return None
        self.document_url = url
        return Document(root, url)

    async def follow(
        self, url: str, method: str, extra: Mapping[str, str], purpose: str
    ) -> Document:
        """Request TwiML the call must continue with; an unusable answer ends the call."""
        document = await self.fetch(url, method, extra, purpose)
        if document is None:
            raise ApplicationError()
        return document

    async def notify(self, url: str, method: str, extra: Mapping[str, str], purpose: str) -> None:
        """An action Twilio requests after the caller is gone: the answer is ignored."""
        self._count_request()
        await post_callback(
            self.exchange.endpoint,
            self.clock,
            self.record.events,
            url=url,
            method=method,
            params=self.params(**extra),
            purpose=purpose,
        )

    async def execute(self, document: Document, *, in_queue: bool = False) -> Document | None:
        """Run the verbs of one document; the next document to run, or None when it ran out."""
        for verb in document.root:
            self.raise_pending()
            if verb.tag != "Reject":
                self.answer()
            if in_queue and verb.tag not in WAIT_VERBS:
                self.record.events.append(
                    CallError(
                        self.clock.elapsed(),
                        12100,
                        f"<{verb.tag}> is not allowed in a waitUrl document",
                        document.url,
                        fatal=False,
                    )
                )
                continue
            handler = VERBS.get(verb.tag)
            if handler is None:
                self.note("unsupported-verb", verb=verb.tag)
                continue
            try:
                following = await handler(self, verb, document, in_queue)
            except TwimlError as exc:
                self.record.events.append(
                    CallError(self.clock.elapsed(), exc.code, exc.message, document.url)
                )
                raise ApplicationError() from exc
            if following is not None:
                return following
        return None

    async def converse(self, document: Document) -> None:
        """Run documents until the call ends; ending always raises an Interrupt."""
        current: Document | None = document
        while current is not None:
            try:
                current = await self.execute(current)
            except Redirected as redirect:
                current = await self._redirect_target(redirect)
        raise AppHungUp()

    async def _redirect_target(self, redirect: Redirected) -> Document:
        self.note("redirected-by-api", url=redirect.url or "twiml")
        if redirect.twiml is not None:
            try:
                return Document(parse_document(redirect.twiml.encode()), self.document_url)
            except TwimlError as exc:
                self.record.events.append(
                    CallError(self.clock.elapsed(), exc.code, exc.message, "twiml")
                )
                raise ApplicationError() from exc
        assert redirect.url is not None
        url = self.exchange.endpoint.resolve(redirect.url)
        return await self.follow(url, redirect.method, {}, "api-redirect")

    def conclude(self, reason: Interrupt) -> None:
        """Set the final status and outcome from the interruption that ended the call."""
        answered = self.answered_at is not None
        if isinstance(reason, CallRejected):
            self.status = "busy" if reason.reason == "busy" else "no-answer"
            self.record.outcome = "rejected"
            return
        if isinstance(reason, ApplicationError):
            self.answer()
            self.record.events.append(
                Said(self.clock.elapsed(), APPLICATION_ERROR_TEXT, "Twilio", "en-US")
            )
            self.record.outcome = "application-error"
        elif isinstance(reason, EndedByApi):
            self.record.outcome = "ended-by-api"
            if not answered:
                self.status = "canceled"
                return
        elif isinstance(reason, CallerHungUp):
            self.record.outcome = "caller-hangup"
        elif isinstance(reason, MaxDurationReached):
            self.record.outcome = "max-duration"
        else:
            self.record.outcome = "app-hangup"
        self.status = "completed" if self.answered_at is not None else "canceled"

    async def finish(self) -> None:
        """Post the completed callback and wait for the call's background work."""
        if self.answered_at is not None:
            self.record.duration = round(self.clock.elapsed() - self.answered_at)
        self.record.status = self.status
        if self.callbacks is not None:
            self.callbacks.emit(
                "completed", self.params(), {"CallDuration": str(self.record.duration)}
            )
            await self.callbacks.close()
        if self._tasks:
            await asyncio.gather(*self._tasks)
