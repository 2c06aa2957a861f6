"""Virtual hold on the voice side: the offer in the wait loop, the caller's key, and the call
back that puts them through to the agent kept for them.

The router keeps the caller's place and decides (routing/lua/holds.lua); a job places the call
back (routing/hold_calls.py). No HTTP here; ivr/hold_webhooks.py passes plain values in.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import anyio

from crm import service as crm
from hotline.db import session_scope
from ivr import queueing
from ivr.jobs import call_record
from ivr.runtime import Ivr
from ivr.service import TERMINAL_STATUSES, record_call_status
from ivr.session import CallState
from ivr.twiml import document
from routing.router_types import HoldOutcome

log = logging.getLogger(__name__)

# What the call back takes over from the caller's own call, for its ticket and its figures.
CARRIED = ("customer_id", "vip", "route", "category", "subject", "complaint", "skill", "priority")


async def answer_key(
    ivr: Ivr, *, call_sid: str, language: str, queue: str, digits: str, window_days: int
) -> str:
    """The caller's key during the hold music: theirs is a call back now, their place kept.
    `window_days`: how far back an open ticket makes this call a repeat contact."""
    lang = ivr.language(language)
    policy = queueing.hold_policy(ivr, queue)
    state = await ivr.store.load(call_sid) if call_sid else None
    phone = state.from_number if state is not None else None
    if policy is None or digits[:1] != policy.key or state is None or phone is None:
        return ivr.docs.wait(lang, None)  # not the key, or not for this call: hold on
    now = ivr.clock.now()
    placement = await ivr.dispatch.router.hold(call_sid=call_sid, phone=phone, now=now)
    if placement.state == "offered":
        return ivr.docs.leave()  # an agent came free first: put through as usual
    if placement.state != "held":
        return ivr.docs.wait(lang, None)
    await ivr.store.update(call_sid, {"vhold": call_sid})
    await _record(ivr, state, now, window_days)
    # Leaving the queue asks the queue-result URL, which hangs up on a held caller.
    return document(ivr.docs.phrase("hold_kept", lang), "<Leave/>")


async def _record(ivr: Ivr, state: CallState, now: datetime, window_days: int) -> None:
    """The callback on its ticket now; if the database is away, the call's logging does it."""
    record = call_record(state, ivr.menu, now=now)

    def work() -> None:
        with session_scope(ivr.engine) as session:
            crm.record_hold(
                session=session, record=record, calendar=ivr.calendar, now=now,
                window_days=window_days,
            )  # fmt: skip

    try:
        await anyio.to_thread.run_sync(work)
    except Exception:
        log.warning("hold of %s not on record yet; its call's logging will put it there",
                    state.call_sid, exc_info=True)  # fmt: skip


async def _after_failure(ivr: Ivr, outcome: HoldOutcome) -> None:
    if outcome.next_call and outcome.agent_id is not None:
        await ivr.dispatch.push(outcome.next_call, outcome.agent_id)


async def answer_call_back(
    ivr: Ivr,
    *,
    entry: str,
    agent_id: int,
    offered_at: str,
    call_sid: str,
    answered_by: str,
    language: str,
) -> str:
    """The held caller picked up our call: put them through to the agent kept for them."""
    lang = ivr.language(language)
    now = ivr.clock.now()
    router = ivr.dispatch.router
    if answered_by in crm.CALLBACK_MACHINE_ANSWERS:
        outcome = await router.hold_result(
            entry=entry, offered_at=offered_at, outcome="machine", now=now
        )
        await _after_failure(ivr, outcome)
        return document(ivr.docs.phrase("hold_machine", lang), "<Hangup/>")
    placement = await router.hold_answered(
        entry=entry, agent_id=agent_id, offered_at=offered_at, call_sid=call_sid, now=now
    )
    if placement.state != "offered":
        # This attempt is over (its offer expired): the next one comes in its turn.
        return document(ivr.docs.phrase("hold_machine", lang), "<Hangup/>")
    answer = ivr.docs.connect(
        lang, queueing.dial_for(ivr, placement, lang), ivr.docs.phrase("hold_calling", lang)
    )
    origin = await ivr.store.load(entry)
    held = await router.call_state(entry)
    fields: dict[str, Any] = {
        name: origin.get(name) or "" for name in CARRIED if origin is not None
    }
    fields.update(
        {
            "from": held.get("vh_phone") or (origin.from_number if origin else "") or "",
            "to": "",
            "lang": lang,
            "node": "",
            "tries": 0,
            "path": [],
            "started_at": now,
            "after_hours": False,
            "queued_at": now,
            "queue": placement.queue,
            "vhold": entry,
        }
    )
    previous = await ivr.store.start(call_sid, fields, answer)
    return previous or answer


async def call_back_status(
    ivr: Ivr, *, entry: str, offered_at: str, call_sid: str, status: str, **progress: Any
) -> None:
    """A call-progress event of a call back: once answered it is a live call like any other;
    unanswered to the end, the attempt failed (the agent is freed, the caller waits again)."""
    held = await ivr.dispatch.router.call_state(entry)
    if held.get("moved_to") == call_sid:
        await record_call_status(ivr, call_sid=call_sid, status=status, **progress)
        return
    if status not in TERMINAL_STATUSES:
        return
    outcome = await ivr.dispatch.router.hold_result(
        entry=entry, offered_at=offered_at, outcome=status, now=ivr.clock.now()
    )
    await _after_failure(ivr, outcome)
