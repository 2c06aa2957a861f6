"""Twilio's requests for virtual hold: the waiting caller's key, and the calls back to them.
Thin: signed form in, TwiML out, never an error (ivr/virtual_hold.py decides)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from hotline.twilio_webhook import EMPTY_TWIML, TwilioForm, TwiML, VoiceRoute, fallback, field
from ivr import virtual_hold
from ivr.callback_webhooks import SORRY
from ivr.runtime import Ivr
from ivr.webhooks import IvrDep, status_progress

router = APIRouter(prefix="/twilio/voice/hold", tags=["twilio voice"], route_class=VoiceRoute)


def _keep_waiting(request: Request) -> str:
    # The key came during the hold music: whatever failed, the caller holds on at their place.
    ivr: Ivr = request.app.state.ivr
    return ivr.docs.fallback_wait


def _agent(raw: str) -> int | None:
    return int(raw) if raw.isdigit() and len(raw) < 10 else None


def _offer(raw: str) -> str | None:
    # The router's offer time, as it stored it: epoch seconds with three decimals.
    return raw if 0 < len(raw) < 24 and raw.replace(".", "", 1).isdigit() else None


@router.post("", response_class=TwiML)
@fallback(_keep_waiting)
async def key(
    request: Request, form: TwilioForm, ivr: IvrDep, lang: str = "", queue: str = ""
) -> Response:
    answer = await virtual_hold.answer_key(
        ivr, call_sid=field(form, "CallSid", limit=64), language=lang, queue=queue[:32],
        digits=field(form, "Digits", limit=8),
        window_days=request.app.state.settings.repeat_contact_window_days,
    )  # fmt: skip
    return TwiML(answer)


@router.post("/answer", response_class=TwiML)
@fallback(lambda request: SORRY)
async def answer(
    form: TwilioForm, ivr: IvrDep, entry: str = "", agent: str = "", offer: str = "",
    lang: str = "",
) -> Response:  # fmt: skip
    agent_id, offered_at = _agent(agent), _offer(offer)
    call_sid = field(form, "CallSid", limit=64)
    if agent_id is None or offered_at is None or not call_sid or not 0 < len(entry) <= 64:
        return TwiML(SORRY)
    text = await virtual_hold.answer_call_back(
        ivr, entry=entry, agent_id=agent_id, offered_at=offered_at, call_sid=call_sid,
        answered_by=field(form, "AnsweredBy", limit=32), language=lang,
    )  # fmt: skip
    return TwiML(text)


@router.post("/status", response_class=TwiML)
@fallback(lambda request: EMPTY_TWIML)
async def status(form: TwilioForm, ivr: IvrDep, entry: str = "", offer: str = "") -> Response:
    offered_at = _offer(offer)
    call_sid = field(form, "CallSid", limit=64)
    if offered_at is not None and call_sid and 0 < len(entry) <= 64:
        await virtual_hold.call_back_status(
            ivr, entry=entry, offered_at=offered_at, call_sid=call_sid,
            status=field(form, "CallStatus", limit=16), **status_progress(form),
        )  # fmt: skip
    return TwiML(EMPTY_TWIML)
