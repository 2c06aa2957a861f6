"""Twilio's requests on the calls the bank places to call customers back. Thin: signed form in,
TwiML out, never an error (ivr/callback_voice.py decides)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from crm.service import CallbackPolicy
from hotline.twilio_webhook import EMPTY_TWIML, TwilioForm, TwiML, VoiceRoute, fallback, field
from ivr import callback_voice
from ivr.twiml import document
from ivr.webhooks import IvrDep

router = APIRouter(prefix="/twilio/voice/callback", tags=["twilio voice"], route_class=VoiceRoute)

# Said when something failed: a short apology; the callback is tried again when the call ends.
SORRY = document(
    '<Say voice="Polly.Zhiyu-Neural" language="cmn-CN">'
    "很抱歉，系统暂时出现问题，我们稍后再联系您。</Say>"
    '<Say voice="Polly.Joanna-Neural" language="en-US">'
    "Sorry, we have a technical problem. We will call you again later.</Say>",
    "<Hangup/>",
)


def _number(raw: str) -> int | None:
    return int(raw) if raw.isdigit() and len(raw) < 10 else None


@router.post("/answer", response_class=TwiML)
@fallback(lambda request: SORRY)
async def answer(form: TwilioForm, ivr: IvrDep, callback: str = "", attempt: str = "") -> Response:
    callback_id, attempt_no = _number(callback), _number(attempt)
    call_sid = field(form, "CallSid", limit=64)
    if callback_id is None or attempt_no is None or not call_sid:
        return TwiML(document("<Hangup/>"))
    text = await callback_voice.answer(
        ivr, callback_id=callback_id, attempt=attempt_no, call_sid=call_sid,
        answered_by=field(form, "AnsweredBy", limit=32),
    )  # fmt: skip
    return TwiML(text)


@router.post("/choice", response_class=TwiML)
@fallback(lambda request: SORRY)
async def choice(
    form: TwilioForm, ivr: IvrDep, callback: str = "", attempt: str = "", step: str = ""
) -> Response:
    callback_id, attempt_no, step_no = _number(callback), _number(attempt), _number(step)
    call_sid = field(form, "CallSid", limit=64)
    if callback_id is None or attempt_no is None or step_no is None or not call_sid:
        return TwiML(document("<Hangup/>"))
    text = await callback_voice.choose(
        ivr, callback_id=callback_id, attempt=attempt_no, call_sid=call_sid, step=step_no,
        digits=field(form, "Digits", limit=8),
    )  # fmt: skip
    return TwiML(text)


@router.post("/status", response_class=TwiML)
@fallback(lambda request: EMPTY_TWIML)
async def status(
    request: Request, form: TwilioForm, ivr: IvrDep, callback: str = "", attempt: str = ""
) -> Response:
    callback_id, attempt_no = _number(callback), _number(attempt)
    call_sid = field(form, "CallSid", limit=64)
    if callback_id is not None and attempt_no is not None and call_sid:
        await callback_voice.status(
            ivr, callback_id=callback_id, attempt=attempt_no, call_sid=call_sid,
            call_status=field(form, "CallStatus", limit=16),
            duration=field(form, "CallDuration", limit=12),
            policy=CallbackPolicy.from_settings(request.app.state.settings),
        )  # fmt: skip
    return TwiML(EMPTY_TWIML)
