"""Calling back a caller who chose virtual hold, when matching gives their entry an agent.

The push job of an offer (routing.jobs.push_offer) comes here for such an entry: the router
grants the call once per offer (hold_dial), so a repeated or duplicated job never rings the
customer twice; the offer's expiry frees the agent if the call is never heard of again. The
router's hold events are put on the callback's record by the heartbeat (`record_hold_event`).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from sqlmodel import Session
from twilio.base.exceptions import TwilioRestException

from crm import service as crm
from hotline.db import session_scope
from hotline.jobs import services
from hotline.phone import mask
from routing.engine import SyncRouter
from routing.router_types import HoldOutcome

log = logging.getLogger(__name__)

# The voice side answers these (ivr/hold_webhooks.py).
ANSWER_PATH = "/twilio/voice/hold/answer"
STATUS_PATH = "/twilio/voice/hold/status"
HOLD_EVENTS = frozenset({"hold_answered", "hold_retry", "hold_failed"})


def place_call_back(
    router: SyncRouter, entry: str, agent_id: int
) -> tuple[str, HoldOutcome | None]:
    """Ring the held caller for the agent kept for them. ("placed" | "stale" | "refused", and
    for a refusal what became of the entry and the agent)."""
    svc = services()
    claim = router.hold_dial(entry=entry, agent_id=agent_id, now=svc.clock.now())
    if claim is None:
        return "stale", None
    query = (
        f"entry={entry}&agent={agent_id}&offer={claim.offered_at}"
        f"&attempt={claim.attempt}&lang={claim.language}"
    )
    base = svc.settings.public_url
    try:
        call_sid = svc.gateway.create_call(
            to=claim.phone,
            from_=svc.settings.twilio_phone_number,
            url=f"{base}{ANSWER_PATH}?{query}",
            status_callback=f"{base}{STATUS_PATH}?{query}",
            machine_detection="Enable",
            timeout=router.config.virtual_hold_calls.ring_seconds,
        )
    except TwilioRestException as exc:
        # No call was created: the attempt counts as failed, the agent is free again.
        log.warning("call back of %s to %s refused: %s", entry, mask(claim.phone), exc.code)
        outcome = router.hold_result(
            entry=entry, offered_at=claim.offered_at, outcome=f"error_{exc.code or ''}",
            now=svc.clock.now(),
        )  # fmt: skip
        return "refused", outcome
    # Any other error (a timeout) leaves the offer standing: the call may exist, and its
    # webhooks will say so; if none comes, the offer's expiry frees the agent.
    try:
        with session_scope(svc.engine) as session:
            crm.hold_placed(
                session=session, origin_call_sid=entry, attempt=claim.attempt,
                call_sid=call_sid, now=svc.clock.now(),
            )  # fmt: skip
    except Exception:
        log.warning("call back %s placed but not on record", call_sid, exc_info=True)
    log.info("calling back %s (attempt %s): %s", entry, claim.attempt, call_sid)
    return "placed", None


def record_hold_event(session: Session, event: dict[str, str]) -> int:
    """One of the router's hold events on the callback's record; 1 if it changed it."""
    kind = event.get("kind")
    at = datetime.fromtimestamp(float(event["at"]), UTC)
    origin = event.get("call", "")
    if kind == "hold_answered":
        return int(
            crm.hold_answered(session=session, origin_call_sid=origin, call_sid=event["to"], now=at)
        )
    if kind in ("hold_retry", "hold_failed"):
        return int(
            crm.hold_attempt_failed(
                session=session,
                origin_call_sid=origin,
                attempt=int(event.get("attempt") or 0),
                result=event.get("result") or "",
                final=kind == "hold_failed",
                now=at,
            )  # fmt: skip
        )
    return 0
