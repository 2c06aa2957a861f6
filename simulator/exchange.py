"""The emulated Twilio account: numbers, live calls, queues, recordings and messages."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass
from typing import Any

from simulator.call import Call
from simulator.callbacks import CallbackChaos, StatusCallbacks
from simulator.callers import Answerer, Directory, Script, Step
from simulator.clock import SimClock
from simulator.dialing import ConferenceRoom
from simulator.flow import Dequeued, Document, EndedByApi, Interrupt, Redirected
from simulator.messaging import (
    Message,
    SmsReplier,
    inbound_params,
    opt_out_type,
    reply_messages,
)
from simulator.queueing import DEFAULT_MAX_SIZE, Member, Queue
from simulator.recording import Recording
from simulator.signing import new_sid
from simulator.transcript import CallRecord, RunReport, WebhookRequest
from simulator.twiml import TwimlError, parse_document
from simulator.webhook import AppEndpoint, deliver, post_callback

DELIVERY_STEP_SECONDS = 1.0
# How long answering machine detection listens before Twilio asks the app's URL.
AMD_SECONDS = 2.5


class ExchangeError(Exception):
    """A request Twilio's API would refuse, with Twilio's error code and HTTP status."""

    def __init__(self, code: int, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


@dataclass(frozen=True)
class PhoneNumber:
    """One of the app's Twilio numbers and its webhook configuration."""

    number: str
    voice_url: str
    voice_method: str = "POST"
    status_callback: str | None = None
    status_callback_method: str = "POST"
    # A number's StatusCallback hears only the end of each incoming call: Twilio sends the
    # other progress events only to a callback that asked for them in the API request or
    # TwiML that made the call, and nothing makes an incoming call. Tests that want every
    # event anyway (to repeat and reorder them) say so.
    status_callback_events: tuple[str, ...] = ("completed",)
    sms_url: str | None = None
    sms_method: str = "POST"


class Exchange:
    """Everything Twilio keeps for one account while the simulation runs."""

    def __init__(
        self,
        *,
        endpoint: AppEndpoint,
        account_sid: str,
        numbers: Sequence[PhoneNumber] = (),
        clock: SimClock | None = None,
        answerer: Answerer | None = None,
        chaos: CallbackChaos | None = None,
        sms_replier: SmsReplier | None = None,
        recording_base: str = "https://api.twilio.com",
        max_call_seconds: float = 4 * 3600,
        max_requests_per_call: int = 500,
    ) -> None:
        self.endpoint = endpoint
        self.account_sid = account_sid
        self.numbers = {n.number: n for n in numbers}
        self.clock = clock or SimClock()
        self.answerer: Answerer = answerer or Directory()
        self.chaos = chaos or CallbackChaos()
        self.sms_replier = sms_replier
        self.recording_base = recording_base.rstrip("/")
        self.max_call_seconds = max_call_seconds
        self.max_requests_per_call = max_requests_per_call
        self.calls: dict[str, Call] = {}
        self.queues: dict[str, Queue] = {}
        self.conferences: dict[str, ConferenceRoom] = {}
        self.recordings: dict[str, Recording] = {}
        # Planned answers to the next media requests (HTTP statuses, or "corrupt"), in order.
        self.media_faults: list[int | str] = []
        self.media_requests = 0
        self.messages: dict[str, Message] = {}
        self.opted_out: set[tuple[str, str]] = set()
        self._runs: dict[str, asyncio.Task[None]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def _spawn(self, work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def queue_named(self, name: str) -> Queue:
        """The queue with this friendly name, created on first use as Twilio does."""
        for queue in self.queues.values():
            if queue.name == name:
                return queue
        return self.create_queue(name)

    def create_queue(self, name: str, max_size: int = DEFAULT_MAX_SIZE) -> Queue:
        queue = Queue.create(name, self.clock.now(), max_size)
        self.queues[queue.sid] = queue
        return queue

    def conference_named(self, name: str) -> ConferenceRoom:
        # A name is reused for a new conference once the previous one has ended.
        if name not in self.conferences or self.conferences[name].ended.is_set():
            self.conferences[name] = ConferenceRoom(new_sid("CF"), name, asyncio.Event())
        return self.conferences[name]

    def _callbacks(
        self, record: CallRecord, url: str | None, method: str, events: Sequence[str]
    ) -> StatusCallbacks | None:
        if not url:
            return None
        return StatusCallbacks(
            endpoint=self.endpoint,
            clock=self.clock,
            record=record,
            url=self.endpoint.resolve(url),
            method=method,
            events=tuple(events),
            chaos=self.chaos,
        )

    # Calls -------------------------------------------------------------------------------

    def start_call_in(self, *, from_: str, to: str, script: Script | Sequence[Step]) -> Call:
        """A virtual caller dials one of the app's numbers; the call runs in the background."""
        number = self.numbers.get(to)
        if number is None:
            raise ExchangeError(21211, f"{to} is not a number of this account", 404)
        call = Call(
            self,
            direction="inbound",
            from_=from_,
            to=to,
            script=script if isinstance(script, Script) else Script(script),
        )
        call.callbacks = self._callbacks(
            call.record,
            number.status_callback,
            number.status_callback_method,
            number.status_callback_events,
        )
        self.calls[call.sid] = call
        self._runs[call.sid] = self._spawn(self._run_inbound(call, number))
        return call

    async def call_in(self, *, from_: str, to: str, script: Script | Sequence[Step]) -> CallRecord:
        """Place an inbound call and wait until it is over."""
        call = self.start_call_in(from_=from_, to=to, script=script)
        return await self.wait_for(call.sid)

    async def wait_for(self, call_sid: str) -> CallRecord:
        await self._runs[call_sid]
        return self.calls[call_sid].record

    async def _run_inbound(self, call: Call, number: PhoneNumber) -> None:
        if call.callbacks is not None:
            call.callbacks.emit("initiated", call.params(CallStatus="ringing"), {})
        call.status = "ringing"
        if call.callbacks is not None:
            call.callbacks.emit("ringing", call.params(), {})
        try:
            url = self.endpoint.resolve(number.voice_url)
            await call.converse(await call.follow(url, number.voice_method, {}, "voice"))
        except Interrupt as reason:
            call.conclude(reason)
        await call.finish()

    def start_outbound(
        self,
        *,
        to: str,
        from_: str,
        url: str | None = None,
        method: str = "POST",
        twiml: str | None = None,
        status_callback: str | None = None,
        status_callback_method: str = "POST",
        status_callback_events: Sequence[str] = ("completed",),
        timeout: int = 60,
        machine_detection: str | None = None,
    ) -> Call:
        """`calls.create`: ring a virtual party, then run the app's TwiML on the answered leg.

        With `MachineDetection` (Enable or DetectMessageEnd) the request to `url` waits for the
        detection and carries `AnsweredBy`, as Twilio's synchronous AMD does."""
        if url is None and twiml is None:
            raise ExchangeError(21205, "Url or Twiml is required")
        document: Document | None = None
        if machine_detection not in (None, "Enable", "DetectMessageEnd"):
            raise ExchangeError(21201, "MachineDetection must be Enable or DetectMessageEnd")
        if twiml is not None:
            if len(twiml) > 4000:
                raise ExchangeError(21230, "Twiml is longer than 4000 characters")
            try:
                document = Document(parse_document(twiml.encode()), self.endpoint.resolve("/"))
            except TwimlError as exc:
                raise ExchangeError(21236, f"invalid Twiml: {exc.message}") from exc
        pickup = self.answerer.pickup(to=to)
        call = Call(
            self,
            direction="outbound-api",
            from_=from_,
            to=to,
            script=pickup.script,
            talk_seconds=pickup.talk_seconds,
        )
        call.callbacks = self._callbacks(
            call.record, status_callback, status_callback_method, status_callback_events
        )
        detected: dict[str, str] = {}
        if machine_detection is not None:
            answered_by: str = pickup.answered_by
            if machine_detection == "DetectMessageEnd" and answered_by == "machine_start":
                answered_by = "machine_end_beep"
            detected["AnsweredBy"] = answered_by
            call.answered_by = answered_by
        self.calls[call.sid] = call
        self._runs[call.sid] = self._spawn(
            self._run_outbound(
                call, url, method, document, pickup.outcome, pickup.ring_seconds, timeout, detected
            )
        )
        return call

    async def _run_outbound(
        self,
        call: Call,
        url: str | None,
        method: str,
        document: Document | None,
        outcome: str,
        ring_seconds: float,
        timeout: int,
        detected: dict[str, str] | None = None,
    ) -> None:
        if call.callbacks is not None:
            call.callbacks.emit("initiated", call.params(), {})
        call.status = "ringing"
        if call.callbacks is not None:
            call.callbacks.emit("ringing", call.params(), {})
        try:
            if outcome == "answer" and ring_seconds <= timeout:
                await call.wait(ring_seconds)
                call.answer()
                if detected:
                    await call.wait(AMD_SECONDS)  # detection listens before the URL is asked
                if document is None:
                    assert url is not None
                    document = await call.follow(
                        self.endpoint.resolve(url), method, detected or {}, "voice"
                    )
                await call.converse(document)
            else:
                await call.wait({"busy": 1.0, "failed": 0.5}.get(outcome, float(timeout)))
                call.status = outcome if outcome in {"busy", "failed"} else "no-answer"
                call.record.outcome = call.status
        except Interrupt as reason:
            call.conclude(reason)
        await call.finish()

    def update_call(
        self,
        call_sid: str,
        *,
        url: str | None = None,
        method: str = "POST",
        twiml: str | None = None,
        status: str | None = None,
    ) -> Call:
        """`calls(sid).update`: redirect a live call or end it."""
        call = self.calls.get(call_sid)
        if call is None:
            raise ExchangeError(20404, f"The requested resource {call_sid} was not found", 404)
        if status is not None:
            if status not in {"completed", "canceled"}:
                raise ExchangeError(21218, f"invalid Status {status!r}")
            if call.live and (status == "completed" or call.answered_at is None):
                call.interrupt(EndedByApi(status))
            return call
        if url is None and twiml is None:
            raise ExchangeError(21205, "Url, Twiml or Status is required")
        if not call.live:
            raise ExchangeError(21220, "Call is not in-progress. Cannot redirect.")
        call.interrupt(Redirected(url=url, method=method.upper(), twiml=twiml))
        return call

    def dequeue(self, queue_sid: str, member_ref: str, *, url: str, method: str = "POST") -> Member:
        """`queues(sid).members(call_sid or 'Front').update(url=…)`."""
        queue = self.queues.get(queue_sid)
        member = queue.find(member_ref) if queue is not None else None
        if queue is None or member is None:
            raise ExchangeError(20404, f"The requested resource {member_ref} was not found", 404)
        queue.remove(member)
        member.call.interrupt(Dequeued(url=url, method=method.upper(), bridge=None))
        return member

    # Messages ----------------------------------------------------------------------------

    def send_message(
        self, *, to: str, from_: str, body: str, status_callback: str | None = None
    ) -> Message:
        """`messages.create`: store it, then report queued → sent → delivered."""
        if (to, from_) in self.opted_out:
            raise ExchangeError(21610, "Attempt to send to unsubscribed recipient")
        message = Message.outbound(
            account_sid=self.account_sid,
            to=to,
            from_=from_,
            body=body,
            now=self.clock.now(),
            status_callback=status_callback,
        )
        self.messages[message.sid] = message
        self._spawn(self._deliver_message(message))
        return message

    async def _deliver_message(self, message: Message) -> None:
        for status in ("queued", "sent", "delivered"):
            await self.clock.sleep(DELIVERY_STEP_SECONDS if status != "queued" else 0)
            message.status = status
            if message.status_callback:
                await post_callback(
                    self.endpoint,
                    self.clock,
                    message.events,
                    url=self.endpoint.resolve(message.status_callback),
                    params=message.status_params(status),
                    purpose="message-status",
                )
        if self.sms_replier is not None:
            reply = self.sms_replier(message)
            if reply is not None:
                await self.text_in(from_=message.to, to=message.from_, body=reply)

    async def text_in(self, *, from_: str, to: str, body: str) -> WebhookRequest:
        """A virtual phone texts one of the app's numbers."""
        number = self.numbers.get(to)
        if number is None or number.sms_url is None:
            raise ExchangeError(21211, f"{to} has no SMS URL configured", 404)
        kind = opt_out_type(body)
        if kind == "STOP":
            self.opted_out.add((from_, to))
        elif kind == "START":
            self.opted_out.discard((from_, to))
        sid = new_sid("SM")
        params = inbound_params(
            sid=sid, account_sid=self.account_sid, from_=from_, to=to, body=body
        )
        delivery = await deliver(
            self.endpoint,
            self.clock,
            method=number.sms_method,
            url=self.endpoint.resolve(number.sms_url),
            params=params,
            purpose="sms",
        )
        if delivery.response is not None and delivery.response.status_code == 200:
            # The app's TwiML <Message>s go back to the phone, as Twilio sends them.
            for reply in reply_messages(delivery.response.text):
                message = Message(
                    new_sid("SM"), self.account_sid, from_, to, reply, "outbound-reply",
                    self.clock.now(), status="sent",
                )  # fmt: skip
                self.messages[message.sid] = message
        return delivery.request

    # Run ---------------------------------------------------------------------------------

    async def drain(self) -> None:
        """Wait until every call and background delivery has finished."""
        while self._tasks:
            results = await asyncio.gather(*list(self._tasks), return_exceptions=True)
            for result in results:
                # A crash inside the emulator must fail the run, not vanish.
                if isinstance(result, Exception):
                    raise result

    def forget_finished(self, older_than: float) -> list[CallRecord]:
        """Drop calls over (callbacks sent) whose last event is older than `older_than`
        simulated seconds; their records. A long run keeps its memory flat this way."""
        now, records = self.clock.elapsed(), []
        for sid, run in list(self._runs.items()):
            if not run.done():
                continue
            record = self.calls[sid].record
            if now - (record.events[-1].at if record.events else 0) > older_than:
                run.result()  # a crash inside the emulator fails the run
                records.append(record)
                del self._runs[sid], self.calls[sid]
        return records

    def report(self) -> RunReport:
        return RunReport.from_records([call.record for call in self.calls.values()])
