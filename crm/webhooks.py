"""Twilio's messaging requests: survey replies and the surveys' delivery reports."""

from __future__ import annotations

import logging
from xml.sax.saxutils import escape

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from crm import survey_inbox, survey_stats
from hotline.context import Services
from hotline.db import session_scope
from hotline.phone import to_e164
from hotline.twilio_webhook import EMPTY_TWIML, TwilioForm, TwiML, VoiceRoute, field

log = logging.getLogger(__name__)

router = APIRouter(prefix="/twilio/sms", tags=["twilio messaging"], route_class=VoiceRoute)


def message_twiml(answer: str) -> str:
    """A <Message> reply; an empty <Response/> sends nothing."""
    if not answer:
        return EMPTY_TWIML
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f"<Response><Message>{escape(answer)}</Message></Response>"
    )


def _receive(services: Services, params: dict[str, str]) -> str:
    now = services.clock.now()
    sender = to_e164(params["From"], region=services.settings.default_region) or params["From"]
    with session_scope(services.engine) as session:
        outcome = survey_inbox.handle_reply(
            session=session,
            message_sid=params["MessageSid"],
            from_number=sender,
            body=params["Body"],
            opt_out_type=params["OptOutType"] or None,
            now=now,
            settings=services.settings,
        )
    if outcome.new_score is not None:
        # After the commit: the figures count only scores that are on record.
        try:
            survey_stats.record_score(
                services.redis, score=outcome.new_score, at=now, zone=services.settings.zone
            )
        except Exception:
            log.exception("survey score stored but not counted in the live CSAT figures")
    return outcome.answer


@router.post("/incoming", response_class=TwiML)
async def incoming_sms(request: Request, form: TwilioForm) -> Response:
    params = {
        name: field(form, name, limit=1600) for name in ("MessageSid", "From", "Body", "OptOutType")
    }
    if not params["MessageSid"] or not params["From"]:
        return TwiML(EMPTY_TWIML)
    answer = await run_in_threadpool(_receive, request.app.state.services, params)
    return TwiML(message_twiml(answer))


def _delivery(services: Services, sid: str, status: str, error_code: int | None) -> None:
    with session_scope(services.engine) as session:
        survey_inbox.record_delivery(
            session=session,
            message_sid=sid,
            status=status,
            error_code=error_code,
            now=services.clock.now(),
        )


@router.post("/status", response_class=TwiML)
async def message_status(request: Request, form: TwilioForm) -> Response:
    sid = field(form, "MessageSid", limit=64)
    status = field(form, "MessageStatus", limit=32).lower()
    code = field(form, "ErrorCode", limit=16)
    if sid and status:
        await run_in_threadpool(
            _delivery,
            request.app.state.services,
            sid,
            status,
            int(code) if code.isdigit() else None,
        )
    return TwiML(EMPTY_TWIML)
