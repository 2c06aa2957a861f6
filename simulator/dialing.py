"""`<Dial>`: ringing virtual parties (Client, Number), taking callers from a Queue, Conference."""

from __future__ import annotations

import asyncio
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from simulator.callers import Pickup
from simulator.flow import Bridge, CallerHungUp, Dequeued, Document, Interrupt
from simulator.recording import (
    Recording,
    RecordingCallback,
    callback_from,
    complete_recording,
    start_recording,
)
from simulator.signing import new_sid
from simulator.twiml import attr_bool, attr_int, attr_method, text_of
from simulator.webhook import post_callback

if TYPE_CHECKING:
    from simulator.call import Call

BUSY_SIGNAL_SECONDS = 1.0
FAILURE_SECONDS = 0.5


@dataclass
class DialResult:
    status: str
    dial_call_sid: str = ""
    duration: int = 0
    recording: Recording | None = None
    caller_gone: bool = False
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(eq=False)
class ConferenceRoom:
    sid: str
    name: str
    ended: asyncio.Event
    participants: set[str] = field(default_factory=set)


async def dial(call: Call, verb: ET.Element, document: Document, in_queue: bool) -> Document | None:
    endpoint = call.exchange.endpoint
    action_attr = verb.get("action")
    action = endpoint.resolve(action_attr, document.url) if action_attr else None
    method = attr_method(verb)
    timeout = attr_int(verb, "timeout", 30)
    record_mode = verb.get("record", "do-not-record")
    callback = callback_from(
        call,
        verb.get("recordingStatusCallback"),
        verb.get("recordingStatusCallbackMethod"),
        verb.get("recordingStatusCallbackEvent"),
        document.url,
    )
    nouns = list(verb)
    if not nouns and text_of(verb):
        nouns = [ET.Element("Number")]
        nouns[0].text = text_of(verb)
    by_kind = {noun.tag: noun for noun in nouns}
    if "Queue" in by_kind:
        result = await _take_from_queue(call, by_kind["Queue"], timeout, record_mode, callback)
    elif "Conference" in by_kind:
        result = await _join_conference(call, by_kind["Conference"])
    else:
        result = await _ring(call, nouns, timeout, record_mode, callback, document.url)
    call.note("dial-ended", status=result.status, dial_call_sid=result.dial_call_sid)
    params = {
        "DialCallStatus": result.status,
        "DialCallSid": result.dial_call_sid,
        "DialCallDuration": str(result.duration),
        **result.extra,
    }
    if result.recording is not None:
        params["RecordingUrl"] = result.recording.url
        params["RecordingSid"] = result.recording.sid
        params["RecordingDuration"] = str(result.recording.duration)
    if result.caller_gone:
        if action is not None:
            call.status = "completed"
            await call.notify(action, method, params, "dial-action")
        raise CallerHungUp()
    if action is None:
        return None
    return await call.follow(action, method, params, "dial-action")


def _address(noun: ET.Element) -> str:
    text = text_of(noun)
    return f"client:{text}" if noun.tag == "Client" else text


def _maybe_record(call: Call, mode: str, callback: RecordingCallback) -> Recording | None:
    if not mode.startswith("record-from"):
        return None
    channels = 2 if mode.endswith("dual") else 1
    return start_recording(call, source="DialVerb", channels=channels, callback=callback)


def _leg_callback(
    call: Call, noun: ET.Element, base: str, child_sid: str, status: str, event: str
) -> None:
    """The noun's own statusCallback (the agent's leg), for the events it asked for."""
    url = noun.get("statusCallback")
    events = (noun.get("statusCallbackEvent") or "completed").replace(",", " ").split()
    if not url or event not in events:
        return
    params = {
        "AccountSid": call.exchange.account_sid,
        "CallSid": child_sid,
        "ParentCallSid": call.sid,
        "CallStatus": status,
        "Direction": "outbound-dial",
        "From": call.from_,
        "To": _address(noun),
        "ApiVersion": "2010-04-01",
        "CallbackSource": "call-progress-events",
    }
    call.spawn(
        post_callback(
            call.exchange.endpoint,
            call.clock,
            call.record.events,
            url=call.exchange.endpoint.resolve(url, base),
            method=(noun.get("statusCallbackMethod") or "POST").upper(),
            params=params,
            purpose="leg-status-callback",
        )
    )


async def _ring(
    call: Call,
    nouns: list[ET.Element],
    timeout: int,
    mode: str,
    callback: RecordingCallback,
    base: str,
) -> DialResult:
    """Ring every noun at once; the first to answer within the timeout gets the call."""
    pickups: list[tuple[str, Pickup]] = [
        (_address(noun), call.exchange.answerer.pickup(to=_address(noun))) for noun in nouns
    ]
    child_sid = new_sid("CA")
    call.note("dialing", to=",".join(address for address, _ in pickups))
    call.start_waiting()
    answering = [
        (address, p)
        for address, p in pickups
        if p.outcome == "answer" and p.ring_seconds <= timeout
    ]
    outcomes = {p.outcome for _, p in pickups}
    try:
        if answering:
            address, pickup = min(answering, key=lambda item: item[1].ring_seconds)
            await call.wait(pickup.ring_seconds)
        elif outcomes == {"busy"}:
            await call.wait(BUSY_SIGNAL_SECONDS)
            return DialResult("busy", child_sid)
        elif outcomes == {"failed"}:
            await call.wait(FAILURE_SECONDS)
            return DialResult("failed", child_sid)
        else:
            await call.wait(timeout)
            return DialResult("no-answer", child_sid)
    except CallerHungUp:
        return DialResult("canceled", child_sid, caller_gone=True)
    call.note("dial-answered", to=address, dial_call_sid=child_sid)
    call.put_through()
    noun = next(n for n in nouns if _address(n) == address)
    _leg_callback(call, noun, base, child_sid, "in-progress", "answered")
    recording = _maybe_record(call, mode, callback)
    started = call.clock.elapsed()
    caller_gone = False
    try:
        await call.wait(pickup.talk_seconds)
    except CallerHungUp:
        caller_gone = True
    finally:
        if recording is not None:
            complete_recording(call, recording, callback)
    _leg_callback(call, noun, base, child_sid, "completed", "completed")
    duration = round(call.clock.elapsed() - started)
    return DialResult("completed", child_sid, duration, recording, caller_gone)


async def _take_from_queue(
    call: Call, noun: ET.Element, timeout: int, mode: str, callback: RecordingCallback
) -> DialResult:
    """An agent leg dequeues the caller at the front and talks for the agent's talk time."""
    queue = call.exchange.queue_named(text_of(noun))
    extra = {"QueueSid": queue.sid}
    deadline = call.clock.elapsed() + timeout
    try:
        while not queue.members:
            remaining = deadline - call.clock.elapsed()
            if remaining <= 0 or not await call.wait(remaining, until=queue.arrival):
                return DialResult("no-answer", extra=extra)
    except CallerHungUp:
        return DialResult("canceled", caller_gone=True, extra=extra)
    member = queue.members[0]
    queue.remove(member)
    bridge = Bridge(call.sid, member.call.sid, call.clock.elapsed())
    member.call.interrupt(Dequeued(url=noun.get("url"), method=attr_method(noun), bridge=bridge))
    call.note("bridged", queue=queue.name, member_call_sid=member.call.sid)
    recording = _maybe_record(call, mode, callback)
    started = call.clock.elapsed()
    caller_gone = False
    try:
        member_left = await call.wait(call.talk_seconds, until=bridge.ended)
        if not member_left:
            caller_gone = True
    except CallerHungUp:
        caller_gone = True
    finally:
        bridge.end("agent")
        if recording is not None:
            complete_recording(call, recording, callback)
    duration = round(call.clock.elapsed() - started)
    return DialResult("completed", member.call.sid, duration, recording, caller_gone, extra)


async def _join_conference(call: Call, noun: ET.Element) -> DialResult:
    room = call.exchange.conference_named(text_of(noun))
    room.participants.add(call.sid)
    call.note("conference-joined", conference=room.name, conference_sid=room.sid)
    started = call.clock.elapsed()
    caller_gone = False
    try:
        if not await call.wait(call.talk_seconds, until=room.ended):
            caller_gone = call.talk_seconds is not None
    except CallerHungUp:
        caller_gone = True
    except Interrupt:
        room.participants.discard(call.sid)
        raise
    room.participants.discard(call.sid)
    if attr_bool(noun, "endConferenceOnExit", False) or not room.participants:
        room.ended.set()
    duration = round(call.clock.elapsed() - started)
    return DialResult("completed", "", duration, None, caller_gone, {"ConferenceSid": room.sid})
