"""The bank calling a customer back: what they hear, and what their keys do.

A person hears a short message in their language and then the other, with the case number,
and keys 1 (solved), 2 (an agent: the router, high priority, sticky to the ticket's agent) or
3 (call me later). An answering machine hears a shorter message with the case number only.
No HTTP here; the webhooks (ivr/callback_webhooks.py) pass plain values in.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache, partial
from pathlib import Path
from typing import Any

import anyio
import yaml

from crm import service as crm
from crm.service import CALLBACK_ANSWERED as ANSWERED
from crm.service import CALLBACK_DIALING as DIALING
from crm.service import CallbackCall, CallbackPolicy
from hotline.db import session_scope
from ivr import queueing
from ivr.runtime import Ivr
from ivr.twiml import document, say

log = logging.getLogger(__name__)

PROMPTS_PATH = Path(__file__).resolve().parent / "prompts" / "callback.yaml"
CHOICE_URL = "/twilio/voice/callback/choice"
TERMINAL = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})
AGENT_PRIORITY = 1
# A silent customer hears the choices this many times before the call ends.
MAX_PROMPTS = 2


@dataclass(frozen=True)
class CallbackPrompts:
    texts: dict[str, Any]

    def text(self, name: str, language: str, reason: str = "") -> str:
        entry = self.texts[name]
        if reason:
            entry = entry.get(reason) or entry["followup"]
        return str(entry[language])


@lru_cache(maxsize=4)
def load_prompts(path: Path = PROMPTS_PATH) -> CallbackPrompts:
    """The callback texts, checked: every phrase in every language the menu speaks."""
    texts = yaml.safe_load(path.read_text(encoding="utf-8"))
    for name in ("choices", "not_understood", "resolved", "later", "no_choice", "machine"):
        if not {"zh", "en"} <= set(texts.get(name, {})):
            raise ValueError(f"{path}: {name} needs zh and en texts")
    return CallbackPrompts(texts)


def _languages(ivr: Ivr, first: str) -> list[str]:
    first = ivr.language(first)
    return [first, ivr.menu.other_language(first)]


def _say(ivr: Ivr, language: str, text: str) -> str:
    return say(text, ivr.menu.languages[language])


def _said(ivr: Ivr, context: CallbackCall, *names: str, reason: str = "") -> list[str]:
    """Each phrase in the customer's language, then all of them again in the other."""
    case = " ".join(context.ticket_number[1:].replace("-", ""))
    prompts = load_prompts()
    fragments: list[str] = []
    for language in _languages(ivr, context.language):
        for name in names:
            text = prompts.text(name, language, reason if name == "intro" else "")
            fragments.append(_say(ivr, language, text.format(case=case)))
    return fragments


def _choices(ivr: Ivr, context: CallbackCall, step: int, *before: str) -> str:
    query = f"callback={context.callback_id}&amp;attempt={context.attempts}&amp;step={step}"
    url = f"{CHOICE_URL}?{query}"
    gather = f'<Gather input="dtmf" numDigits="1" timeout="6" action="{url}" method="POST">'
    prompt = "".join(before) + "".join(_said(ivr, context, "choices"))
    # Silence does not call the action: the Redirect brings the empty answer to us.
    return document(gather, prompt, "</Gather>", f'<Redirect method="POST">{url}</Redirect>')


def _hangup(*fragments: str) -> str:
    return document(*fragments, "<Hangup/>")


async def _db(ivr: Ivr, work: Any) -> Any:
    def run() -> Any:
        with session_scope(ivr.engine) as session:
            return work(session)

    return await anyio.to_thread.run_sync(run)


async def answer(
    ivr: Ivr, *, callback_id: int, attempt: int, call_sid: str, answered_by: str
) -> str:
    """The callee picked up: the message and the choices, or a machine's short message."""
    now = ivr.clock.now()

    def work(session: Any) -> tuple[bool, CallbackCall | None]:
        human = crm.callback_answered(
            session=session, callback_id=callback_id, attempt=attempt, call_sid=call_sid,
            answered_by=answered_by, now=now,
        )  # fmt: skip
        return human, crm.callback_call_context(session=session, callback_id=callback_id)

    human, context = await _db(ivr, work)
    if context is None or context.attempts != attempt or context.status not in (DIALING, ANSWERED):
        return _hangup()  # cancelled meanwhile, or an attempt long gone
    if not human:
        return _hangup(*_said(ivr, context, "machine"))
    await ivr.store.update(
        call_sid,
        {
            "lang": ivr.language(context.language),
            "from": context.phone,
            "customer_id": context.customer_id or "",
            "sticky": context.last_agent_id or "",
            "callback": callback_id,
            "route": "callback",
            "category": context.category,
        },
    )
    intro = _said(ivr, context, "intro", reason=context.reason)
    return _choices(ivr, context, 1, *intro)


async def choose(
    ivr: Ivr, *, callback_id: int, attempt: int, call_sid: str, step: int, digits: str
) -> str:
    """The customer's key, applied once per step: a repeat gets the same answer."""
    kept = await ivr.store.load(call_sid)
    if kept is not None and (earlier := kept.get(f"cb:r:{step}")):
        return earlier
    answer = await _decide(ivr, callback_id=callback_id, attempt=attempt, call_sid=call_sid,
                           step=step, digits=digits)  # fmt: skip
    await ivr.store.update(call_sid, {f"cb:r:{step}": answer}, only_new=True)
    state = await ivr.store.load(call_sid)
    return (state.get(f"cb:r:{step}") if state else None) or answer


async def _decide(
    ivr: Ivr, *, callback_id: int, attempt: int, call_sid: str, step: int, digits: str
) -> str:
    now = ivr.clock.now()
    digit = digits[:1]

    def work(session: Any) -> tuple[str | None, CallbackCall | None]:
        outcome = crm.callback_choose(
            session=session, callback_id=callback_id, attempt=attempt, digit=digit, now=now
        )
        return outcome, crm.callback_call_context(session=session, callback_id=callback_id)

    outcome, context = await _db(ivr, work)
    if context is None or context.attempts != attempt:
        return _hangup()
    if outcome == "resolved":
        return _hangup(*_said(ivr, context, "resolved"))
    if outcome == "later":
        return _hangup(*_said(ivr, context, "later"))
    if outcome == "agent":
        return await _to_agent(ivr, context, call_sid)
    if context.status != ANSWERED:
        return _hangup()
    if step >= MAX_PROMPTS:
        return _hangup(*_said(ivr, context, "no_choice"))
    sorry = _said(ivr, context, "not_understood")[:1]
    return _choices(ivr, context, step + 1, *sorry)


async def _to_agent(ivr: Ivr, context: CallbackCall, call_sid: str) -> str:
    """Into the router like a caller from the menu: high priority, the ticket's agent first."""
    state = await ivr.store.load(call_sid)
    if state is None:
        return _hangup()
    language = ivr.language(context.language)
    skill = next(
        (
            route.skill
            for route in ivr.menu.routes.values()
            if route.category == context.category and route.skill
        ),
        "general",
    )
    fields: dict[str, Any] = {"priority": AGENT_PRIORITY}
    step = await queueing.arrive(ivr, state, language, skill, AGENT_PRIORITY, fields)
    await ivr.store.update(call_sid, step.fields)
    return step.answer


async def status(
    ivr: Ivr,
    *,
    callback_id: int,
    attempt: int,
    call_sid: str,
    call_status: str,
    duration: str,
    policy: CallbackPolicy,
) -> None:
    """A call-progress event of a callback's call; at its end, the attempt's result."""
    if call_status not in TERMINAL:
        await _db(ivr, partial(_seen, callback_id, attempt, call_sid))
        return
    now = ivr.clock.now()
    # Wherever the customer was (waiting for an agent, ringing one, talking), routing lets go.
    await ivr.dispatch.call_ended(call_sid=call_sid, now=now)
    state = await ivr.store.load(call_sid)
    agent = (state.get("agent_id") or "") if state else ""

    def work(session: Any) -> Any:
        return crm.callback_call_ended(
            session=session, callback_id=callback_id, attempt=attempt, call_sid=call_sid,
            call_status=call_status, duration=int(duration) if duration.isdigit() else None,
            now=now, policy=policy, calendar=ivr.calendar,
            agent_id=int(agent) if agent.isdigit() else None,
        )  # fmt: skip

    retry = await _db(ivr, work)
    if retry is not None:
        await anyio.to_thread.run_sync(
            partial(
                crm.schedule_callback_placement, ivr.dispatch.jobs_redis,
                callback_id=retry.callback_id, attempts=retry.attempts, due_at=retry.due_at,
                now=now,
            )
        )  # fmt: skip


def _seen(callback_id: int, attempt: int, call_sid: str, session: Any) -> None:
    crm.callback_call_seen(
        session=session, callback_id=callback_id, attempt=attempt, call_sid=call_sid
    )
