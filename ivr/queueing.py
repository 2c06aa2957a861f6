"""The caller between the menu and an agent: arrival, the wait loop, ringing, the Dial result.

The router (routing.dispatch) decides; this module says it to the caller in TwiML.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hotline.phone import to_e164
from ivr.runtime import Ivr, Step
from ivr.session import CallState
from routing.config import VirtualHold
from routing.router_types import Placement, WaitCheck
from routing.twiml import dial

HOLD_KEY_URL = "/twilio/voice/hold"
# Queue results after which the call is over or elsewhere: nothing more to say.
QUEUE_DONE = frozenset(
    {"hangup", "bridged", "bridging-in-process", "redirected", "redirected-from-bridged"}
)


def dial_for(ivr: Ivr, placement: Placement, language: str) -> str:
    """The `<Dial>` of the agent an offer names."""
    assert placement.agent_id is not None
    return dial(
        agent_id=placement.agent_id,
        contact=placement.contact,
        language=language,
        ring_timeout=ivr.dispatch.config.ring_timeout_seconds,
    )


def _next(ivr: Ivr, placement: Placement | None, language: str, queue: str, *prefix: str) -> str:
    """Ring the agent the router chose, or (back) into the Twilio queue to wait."""
    if placement is not None and placement.state == "offered":
        return ivr.docs.connect(language, dial_for(ivr, placement, language), *prefix)
    return ivr.docs.enqueue(queue or "general", language, *prefix)


async def arrive(
    ivr: Ivr,
    state: CallState,
    language: str,
    skill: str,
    priority: int,
    fields: dict[str, Any],
    prefix: tuple[str, ...] = (),
) -> Step:
    """A menu leaf reached: hand the caller to the router; ring an agent now or wait."""
    now = ivr.clock.now()
    sticky = state.get("sticky") or ""
    placement = await ivr.dispatch.arrive(
        call_sid=state.call_sid,
        skill=skill,
        language=language,
        priority=priority,
        enqueued_at=now,
        now=now,
        sticky_agent_id=int(sticky) if sticky.isdigit() else None,
    )
    fields.update(skill=skill, queued_at=now, queue=placement.queue)
    return Step(_next(ivr, placement, language, placement.queue, *prefix), fields)


async def answer_wait(
    ivr: Ivr,
    *,
    call_sid: str,
    language: str | None,
    queue: str,
    queue_sid: str,
    position: str,
    queue_time: str,
    from_raw: str = "",
) -> str:
    """One turn of the wait loop: leave for an agent if one was found, else hold on (and, where
    the queue allows it, hear the offer to be called back instead)."""
    lang = ivr.language(language)
    now = ivr.clock.now()
    check = await ivr.dispatch.wait(call_sid=call_sid, twilio_queue_sid=queue_sid, now=now)
    if check.state == "unknown" and call_sid and queue in ivr.dispatch.config.queues:
        # The router never saw this caller (Redis was away when they came): take them in now,
        # counting the time they have already waited.
        waited = int(queue_time) if queue_time.isdigit() and len(queue_time) < 7 else 0
        await ivr.dispatch.arrive(
            call_sid=call_sid, skill=ivr.dispatch.config.queues[queue].skill, language=lang,
            priority=3, enqueued_at=now - timedelta(seconds=waited), now=now,
        )  # fmt: skip
        check = await ivr.dispatch.wait(call_sid=call_sid, twilio_queue_sid=queue_sid, now=now)
    if check.offer is not None or check.state == "held":
        return ivr.docs.leave()
    if check.state == "waiting":
        call_back = call_back_offer(ivr, queue=queue, language=lang, from_raw=from_raw, check=check)
        return ivr.docs.wait(lang, check.place, call_back=call_back)
    # Still unknown to the router: Twilio's own count is the best we have.
    spoken = int(position) if position.isdigit() and len(position) < 6 else None
    return ivr.docs.wait(lang, spoken)


def hold_policy(ivr: Ivr, queue: str) -> VirtualHold | None:
    """Whether (and when) this queue's callers may ask to be called back instead."""
    config = ivr.dispatch.config.queues.get(queue)
    return config.virtual_hold if config is not None else None


def call_back_offer(
    ivr: Ivr, *, queue: str, language: str, from_raw: str, check: WaitCheck
) -> tuple[str, str] | None:
    """(key, action URL) when this waiting caller may ask to be called back (virtual hold,
    ivr/virtual_hold.py): their queue offers it, they have waited long enough, and they call
    from a number we can ring back."""
    policy = hold_policy(ivr, queue)
    if policy is None or check.waited < policy.offer_after or check.waiting < policy.min_waiting:
        return None
    if to_e164(from_raw, region=ivr.region) is None:
        return None  # withheld, anonymous, or a softphone: nothing to call back
    return policy.key, f"{HOLD_KEY_URL}?lang={language}&queue={queue}"


async def answer_queue_result(
    ivr: Ivr, *, call_sid: str, language: str | None, result: str, queue_time: str
) -> str:
    lang = ivr.language(language)
    fields: dict[str, Any] = {"queue_result": result or "unknown", "queue_left_at": ivr.clock.now()}
    if queue_time.isdigit():
        fields["queue_time"] = int(queue_time)
    await ivr.store.update(call_sid, fields, only_new=True)
    if result == "leave":
        held = await ivr.store.load(call_sid)
        if held is not None and held.get("vhold"):
            return ivr.docs.hangup()  # they chose a call back: their place is kept without them
        offer = await ivr.dispatch.current_offer(call_sid)
        if offer is not None:
            return _next(ivr, offer, lang, offer.queue)
        # The offer went away meanwhile: back into the queue the caller was in.
        state = await ivr.store.load(call_sid)
        return _next(ivr, None, lang, state.get("queue") or "" if state else "")
    if result in QUEUE_DONE:
        if result == "hangup":
            await ivr.dispatch.call_ended(call_sid=call_sid, now=ivr.clock.now())
        return ivr.docs.hangup()
    # Queue full or a Twilio error: the caller is not dropped, they can leave a message.
    await ivr.dispatch.call_ended(call_sid=call_sid, now=ivr.clock.now())
    return ivr.docs.voicemail(lang, ivr.docs.phrase("sorry_voicemail", lang))


async def answer_connect(ivr: Ivr, *, call_sid: str, agent_id: int | None) -> str:
    """A waiting caller pushed out of the Twilio queue (REST): ring the agent they were given."""
    state = await ivr.store.load(call_sid)
    lang = ivr.language(state.language if state else None)
    offer = await ivr.dispatch.current_offer(call_sid, agent_id)
    return _next(ivr, offer, lang, state.get("queue") or "" if state else "")


async def answer_dial_result(
    ivr: Ivr, *, call_sid: str, agent_id: int, language: str | None, status: str, duration: str
) -> str:
    lang = ivr.language(language)
    now = ivr.clock.now()
    placement = await ivr.dispatch.dial_result(
        call_sid=call_sid, agent_id=agent_id, status=status, now=now
    )
    if placement is None:
        if status in ("completed", "answered"):
            talked = int(duration) if duration.isdigit() else 0
            await _note_answer(ivr, call_sid, agent_id, answered_at=now.timestamp() - talked)
        return ivr.docs.goodbye(lang)
    state = await ivr.store.load(call_sid)
    return _next(
        ivr, placement, lang, placement.queue or (state.get("queue") or "" if state else "")
    )


async def answer_agent_leg(ivr: Ivr, *, call_sid: str, agent_id: int, status: str) -> None:
    """The agent's leg reported in: on answer, the agent is busy and the call answered."""
    if status not in ("answered", "in-progress") or not call_sid:
        return
    if await ivr.dispatch.agent_answered(call_sid=call_sid, agent_id=agent_id, now=ivr.clock.now()):
        await _note_answer(ivr, call_sid, agent_id, answered_at=ivr.clock.now().timestamp())


async def _note_answer(ivr: Ivr, call_sid: str, agent_id: int, *, answered_at: float) -> None:
    await ivr.store.update(
        call_sid, {"answered_at": repr(answered_at), "agent_id": agent_id}, only_new=True
    )
