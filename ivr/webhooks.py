"""Twilio's voice requests. Thin: read the form, call the service, answer TwiML."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from hotline.twilio_webhook import (
    EMPTY_TWIML,
    TwilioForm,
    TwiML,
    VoiceRoute,
    fallback,
    field,
    signed_field,
)
from ivr import queueing, service
from ivr.runtime import Ivr
from ivr.twiml import LAST_RESORT

router = APIRouter(prefix="/twilio/voice", tags=["twilio voice"], route_class=VoiceRoute)


async def get_ivr(request: Request) -> Ivr:
    # async: FastAPI would run a plain def dependency in a thread, on every request.
    ivr: Ivr = request.app.state.ivr
    return ivr


IvrDep = Annotated[Ivr, Depends(get_ivr)]


def _queue_fallback(request: Request) -> str:
    ivr: Ivr = request.app.state.ivr
    return ivr.docs.fallback_queue[ivr.menu.default_language]


def _wait_fallback(request: Request) -> str:
    ivr: Ivr = request.app.state.ivr
    return ivr.docs.fallback_wait


@router.post("/incoming", response_class=TwiML)
@fallback(_queue_fallback)
async def incoming(form: TwilioForm, ivr: IvrDep) -> Response:
    call_sid = field(form, "CallSid", limit=64)
    if not call_sid:
        return TwiML(LAST_RESORT)
    answer = await service.answer_incoming(
        ivr, call_sid=call_sid, from_raw=field(form, "From"), to_raw=field(form, "To")
    )
    return TwiML(answer)


@router.post("/gather", response_class=TwiML)
@fallback(_queue_fallback)
async def gather(form: TwilioForm, ivr: IvrDep, step: str = "0") -> Response:
    call_sid = field(form, "CallSid", limit=64)
    if not call_sid:
        return TwiML(LAST_RESORT)
    answer = await service.answer_gather(
        ivr,
        call_sid=call_sid,
        step=int(step) if step.isdigit() and len(step) < 6 else -1,
        digits=field(form, "Digits", limit=32),
        speech=field(form, "SpeechResult", limit=2000),
        from_raw=field(form, "From"),
        to_raw=field(form, "To"),
    )
    return TwiML(answer)


@router.post("/wait", response_class=TwiML)
@fallback(_wait_fallback)
async def wait(form: TwilioForm, ivr: IvrDep, lang: str = "", queue: str = "") -> Response:
    answer = await queueing.answer_wait(
        ivr,
        call_sid=field(form, "CallSid", limit=64),
        language=lang,
        queue=queue[:32],
        queue_sid=field(form, "QueueSid", limit=64),
        position=field(form, "QueuePosition"),
        queue_time=field(form, "QueueTime", limit=12),
        from_raw=field(form, "From"),
    )
    return TwiML(answer)


@router.post("/queue-result", response_class=TwiML)
@fallback(_queue_fallback)
async def queue_result(form: TwilioForm, ivr: IvrDep, lang: str = "") -> Response:
    answer = await queueing.answer_queue_result(
        ivr,
        call_sid=field(form, "CallSid", limit=64),
        language=lang,
        result=field(form, "QueueResult", limit=32),
        queue_time=field(form, "QueueTime", limit=12),
    )
    return TwiML(answer)


def _agent(raw: str) -> int | None:
    return int(raw) if raw.isdigit() and len(raw) < 10 else None


@router.post("/connect", response_class=TwiML)
@fallback(_queue_fallback)
async def connect(form: TwilioForm, ivr: IvrDep, agent: str = "") -> Response:
    answer = await queueing.answer_connect(
        ivr, call_sid=field(form, "CallSid", limit=64), agent_id=_agent(agent)
    )
    return TwiML(answer)


def _dial_result_fallback(request: Request) -> str:
    # After a conversation the caller is done: never put them back in a queue.
    if signed_field(request, "DialCallStatus") in ("completed", "answered"):
        ivr: Ivr = request.app.state.ivr
        return ivr.docs.goodbye(ivr.menu.default_language)
    return _queue_fallback(request)


@router.post("/dial-result", response_class=TwiML)
@fallback(_dial_result_fallback)
async def dial_result(form: TwilioForm, ivr: IvrDep, agent: str = "", lang: str = "") -> Response:
    agent_id = _agent(agent)
    if agent_id is None:
        return TwiML(ivr.docs.goodbye(ivr.language(lang)))
    answer = await queueing.answer_dial_result(
        ivr,
        call_sid=field(form, "CallSid", limit=64),
        agent_id=agent_id,
        language=lang,
        status=field(form, "DialCallStatus", limit=16),
        duration=field(form, "DialCallDuration", limit=12),
    )
    return TwiML(answer)


@router.post("/agent-leg", response_class=TwiML)
@fallback(lambda request: EMPTY_TWIML)
async def agent_leg(form: TwilioForm, ivr: IvrDep, agent: str = "") -> Response:
    agent_id = _agent(agent)
    if agent_id is not None:
        await queueing.answer_agent_leg(
            ivr,
            call_sid=field(form, "ParentCallSid", limit=64),
            agent_id=agent_id,
            status=field(form, "CallStatus", limit=16),
        )
    return TwiML(EMPTY_TWIML)


@router.post("/voicemail", response_class=TwiML)
@fallback(lambda request: EMPTY_TWIML)
async def voicemail(form: TwilioForm, ivr: IvrDep, lang: str = "") -> Response:
    answer = await service.answer_voicemail(
        ivr,
        call_sid=field(form, "CallSid", limit=64),
        language=lang,
        recording_sid=field(form, "RecordingSid", limit=64),
        duration=field(form, "RecordingDuration", limit=12),
    )
    return TwiML(answer)


def _timestamp(raw: str) -> datetime | None:
    try:
        return parsedate_to_datetime(raw).astimezone(UTC) if raw else None
    except (TypeError, ValueError):
        return None


@router.post("/status", response_class=TwiML)
@fallback(lambda request: EMPTY_TWIML)
async def status(form: TwilioForm, ivr: IvrDep) -> Response:
    call_sid = field(form, "CallSid", limit=64)
    if not call_sid:
        return TwiML(EMPTY_TWIML)
    await service.record_call_status(
        ivr,
        call_sid=call_sid,
        status=field(form, "CallStatus", limit=16),
        **status_progress(form),
    )
    return TwiML(EMPTY_TWIML)


def status_progress(form: TwilioForm) -> dict[str, Any]:
    """A status callback's fields besides the call and its status, as record_call_status takes
    them."""
    return {
        "sequence": field(form, "SequenceNumber", limit=8),
        "timestamp": _timestamp(field(form, "Timestamp", limit=64)),
        "duration": field(form, "CallDuration", limit=12),
        "from_raw": field(form, "From"),
        "to_raw": field(form, "To"),
    }
