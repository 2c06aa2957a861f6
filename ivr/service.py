"""The IVR's decisions: what each voice request changes and what TwiML answers it.

No HTTP types here: webhooks pass plain values in and send the returned TwiML out.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, NamedTuple

import anyio
import redis
from redis.exceptions import RedisError

from crm import service as crm
from crm.models import CallerProfile, TicketStatus
from hotline.db import session_scope
from hotline.phone import mask, to_e164
from ivr import parked, queueing
from ivr.menu import Node
from ivr.runtime import Ivr, Step
from ivr.session import CallState, load_sync
from ivr.speech import digits_in, match_choice

log = logging.getLogger(__name__)

TERMINAL_STATUSES = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})
# Queue results after which the call is over or elsewhere: nothing more to say.
QUEUE_DONE = frozenset(
    {"hangup", "bridged", "bridging-in-process", "redirected", "redirected-from-bridged"}
)


# --- incoming --------------------------------------------------------------------------------


async def answer_incoming(ivr: Ivr, *, call_sid: str, from_raw: str, to_raw: str) -> str:
    now = ivr.clock.now()
    from_number = to_e164(from_raw, region=ivr.region)
    caller = await _lookup_caller(ivr, from_number)
    language = ivr.language(caller.preferred_language if caller else None)
    after_hours = not ivr.calendar.is_open(now)
    node_name = ivr.menu.after_hours_start if after_hours else ivr.menu.start
    node = ivr.menu.nodes[node_name]
    greeting = [ivr.docs.phrase(node.greeting, language)] if node.greeting else []
    answer = ivr.docs.menu(node_name, language, 1, *greeting)
    fields: dict[str, Any] = {
        "from": from_number or "",
        "to": to_e164(to_raw, region=ivr.region) or "",
        "customer_id": caller.customer_id if caller else "",
        "vip": bool(caller and caller.segment == "vip"),
        "sticky": (caller.last_agent_id or "") if caller else "",
        "lang": language,
        "node": node_name,
        "tries": 0,
        "started_at": now,
        "after_hours": after_hours,
        "path": [],
    }
    previous = await ivr.store.start(call_sid, fields, answer)
    if previous is None:
        log.info("call %s from %s: %s in %s", call_sid, mask(from_number), node_name, language)
    return previous or answer


async def _lookup_caller(ivr: Ivr, number: str | None) -> CallerProfile | None:
    if number is None:
        return None

    def lookup() -> CallerProfile | None:
        with session_scope(ivr.engine) as session:
            return crm.find_caller(session=session, number=number)

    try:
        return await anyio.to_thread.run_sync(lookup)
    except Exception:
        # The caller still gets the menu; only the VIP lift and language preference are lost.
        log.warning(
            "customer lookup failed for %s; treating as unknown", mask(number), exc_info=True
        )
        return None


# --- menu steps ------------------------------------------------------------------------------


async def answer_gather(
    ivr: Ivr, *, call_sid: str, step: int, digits: str, speech: str, from_raw: str, to_raw: str
) -> str:
    state = await ivr.store.load(call_sid)
    if state is None or not state.started:
        log.warning("gather for unknown call %s; starting it at the menu", call_sid)
        return await answer_incoming(ivr, call_sid=call_sid, from_raw=from_raw, to_raw=to_raw)
    if step != state.step:
        # A repeat gets the answer it had; a step from nowhere hears the current prompt again.
        return state.get(f"r:{step}") or _reprompt(ivr, state)
    decided = await _decide(ivr, state, digits=digits, speech=speech)
    applied, kept = await ivr.store.advance(call_sid, step, decided.fields, decided.answer)
    if applied:
        return decided.answer
    return kept or _reprompt(ivr, state)


def _reprompt(ivr: Ivr, state: CallState) -> str:
    node = state.node if state.node in ivr.menu.nodes else ivr.menu.start
    return ivr.docs.menu(node, ivr.language(state.language), state.step)


async def _decide(ivr: Ivr, state: CallState, *, digits: str, speech: str) -> Step:
    node_name = state.node if state.node in ivr.menu.nodes else ivr.menu.start
    node = ivr.menu.nodes[node_name]
    language = ivr.language(state.language)
    now = ivr.clock.now()
    entry: dict[str, Any] = {
        "node": node_name,
        "at": now.isoformat(timespec="seconds"),
        "input": "dtmf" if digits else ("speech" if speech.strip() else "none"),
    }
    if node.collect == "case_number":
        return await _case_number(ivr, state, node, language, entry, digits=digits, speech=speech)
    choice = match_choice(node, digits=digits, speech=speech, language=language)
    if choice is None:
        entry["choice"] = None
        return await _retry_or_fail(
            ivr, state, node, language, entry, ivr.docs.phrase("not_understood", language)
        )
    entry["choice"] = choice.key
    if choice.switch_language:
        language = ivr.menu.other_language(language)
        entry["language"] = language
        return await _go(ivr, state, language, entry, goto=node_name)
    return await _go(ivr, state, language, entry, route=choice.route, goto=choice.goto)


async def _retry_or_fail(
    ivr: Ivr, state: CallState, node: Node, language: str, entry: dict[str, Any], apology: str
) -> Step:
    tries = state.tries + 1
    if tries > node.retries:
        entry["gave_up"] = True
        return await _go(
            ivr,
            state,
            language,
            entry,
            route=node.on_fail.route,
            goto=node.on_fail.goto,
            prefix=(apology,),
        )
    answer = ivr.docs.menu(state.node, language, state.step + 1, apology)
    return Step(answer, {"tries": tries, "path": [*state.path, entry]})


async def _go(
    ivr: Ivr,
    state: CallState,
    language: str,
    entry: dict[str, Any],
    *,
    route: str | None = None,
    goto: str | None = None,
    prefix: tuple[str, ...] = (),
    extra: dict[str, Any] | None = None,
) -> Step:
    fields: dict[str, Any] = {
        "lang": language,
        "tries": 0,
        "path": [*state.path, entry],
        **(extra or {}),
    }
    if goto is not None:
        fields["node"] = goto
        return Step(ivr.docs.menu(goto, language, state.step + 1, *prefix), fields)
    assert route is not None
    return await _route(ivr, state, language, route, fields, prefix)


async def _route(
    ivr: Ivr,
    state: CallState,
    language: str,
    name: str,
    fields: dict[str, Any],
    prefix: tuple[str, ...],
) -> Step:
    target = ivr.menu.routes[name]
    if state.after_hours and target.kind == "queue" and not target.always_open:
        name, target = "voicemail", ivr.menu.routes["voicemail"]
    priority = max(1, target.priority - 1) if state.vip else target.priority
    fields.update(
        route=name,
        category=target.category,
        subject=target.subject,
        complaint=target.complaint,
        priority=priority,
        node="",
    )
    if target.kind == "voicemail":
        return Step(ivr.docs.voicemail(language, *prefix), fields)
    assert target.skill is not None
    return await queueing.arrive(ivr, state, language, target.skill, priority, fields, prefix)


async def _case_number(
    ivr: Ivr,
    state: CallState,
    node: Node,
    language: str,
    entry: dict[str, Any],
    *,
    digits: str,
    speech: str,
) -> Step:
    keyed = digits_in(digits or speech)[:20]
    number = crm.parse_ticket_number(keyed)
    if number is None:
        entry["choice"] = None
        apology = ivr.docs.phrase("case_not_found" if keyed else "not_understood", language)
        return await _retry_or_fail(ivr, state, node, language, entry, apology)

    def lookup() -> TicketStatus | None:
        with session_scope(ivr.engine) as session:
            return crm.caller_case_status(
                session=session, ticket_number=number, caller_number=state.from_number
            )

    status = await anyio.to_thread.run_sync(lookup)
    if status is None:
        entry["choice"] = "not_found"
        return await _retry_or_fail(
            ivr, state, node, language, entry, ivr.docs.phrase("case_not_found", language)
        )
    entry["choice"] = "found"
    told = ivr.docs.phrase_with(
        "case_status",
        language,
        number=" ".join(number[1:].replace("-", "")),
        status=ivr.menu.phrase(f"status.{status}", language),
    )
    return await _go(
        ivr,
        state,
        language,
        entry,
        goto=ivr.menu.start,
        prefix=(told,),
        extra={"self_service": True},
    )


# --- queue, voicemail, status ----------------------------------------------------------------


async def answer_voicemail(
    ivr: Ivr, *, call_sid: str, language: str | None, recording_sid: str, duration: str
) -> str:
    if recording_sid:
        fields: dict[str, Any] = {"voicemail_sid": recording_sid}
        if duration.isdigit():
            fields["voicemail_seconds"] = int(duration)
        await ivr.store.update(call_sid, fields, only_new=True)
    return ivr.docs.voicemail_thanks(ivr.language(language))


async def record_call_status(
    ivr: Ivr,
    *,
    call_sid: str,
    status: str,
    sequence: str,
    timestamp: datetime | None,
    duration: str,
    from_raw: str,
    to_raw: str,
) -> None:
    """Note a call-progress event; when the call has just ended, queue it for logging."""
    terminal = status in TERMINAL_STATUSES
    fields: dict[str, Any] = {"twilio_status": status}
    if terminal:
        fields["ended_at"] = timestamp or ivr.clock.now()
        if duration.isdigit():
            fields["duration"] = int(duration)
        # Kept apart from the IVR's own fields: used only if the incoming request never reached us.
        fields["from_cb"] = to_e164(from_raw, region=ivr.region) or ""
        fields["to_cb"] = to_e164(to_raw, region=ivr.region) or ""
    event_id = status_event_id(status, sequence)
    try:
        outcome = await ivr.store.record_status(
            call_sid, event_id, terminal=terminal, fields=fields
        )
        if terminal:
            # Wherever the caller was (waiting, ringing an agent, talking), routing lets go.
            await ivr.dispatch.call_ended(call_sid=call_sid, now=ivr.clock.now())
        if outcome == 2:
            await ivr.store.note_ended(call_sid)
    except Exception as exc:
        # Twilio will not send this again: keep it in the database until Redis is back.
        log.warning(
            "status %s of call %s not applied (%s); parking it", event_id, call_sid,
            type(exc).__name__, exc_info=not isinstance(exc, RedisError),
        )  # fmt: skip
        await _park(ivr, call_sid=call_sid, event_id=event_id, terminal=terminal, fields=fields)


async def _park(
    ivr: Ivr, *, call_sid: str, event_id: str, terminal: bool, fields: dict[str, Any]
) -> None:
    def store() -> None:
        with session_scope(ivr.engine) as session:
            parked.park(
                session=session,
                call_sid=call_sid,
                event_id=event_id,
                terminal=terminal,
                fields=fields,
                now=ivr.clock.now(),
            )

    await anyio.to_thread.run_sync(store)


def status_event_id(status: str, sequence: str) -> str:
    """The natural key of a status callback within its call."""
    return f"{sequence}:{status}" if sequence else status


# --- for other domains -----------------------------------------------------------------------


class CallerOnLine(NamedTuple):
    """Who is on a call, as the IVR learnt it when the call came in."""

    number: str | None
    customer_id: int | None


def caller_on_line(*, client: redis.Redis, call_sid: str) -> CallerOnLine | None:
    """The caller of a live call (for an agent's screen pop); None once its session is gone."""
    state = load_sync(client, call_sid)
    if state is None:
        return None
    return CallerOnLine(number=state.from_number, customer_id=state.customer_id)
