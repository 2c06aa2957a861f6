"""Twilio's messaging requests. Survey replies arrive here once surveys exist."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from hotline.twilio_webhook import EMPTY_TWIML, TwilioForm, TwiML, VoiceRoute

router = APIRouter(prefix="/twilio/sms", tags=["twilio messaging"], route_class=VoiceRoute)


@router.post("/incoming", response_class=TwiML)
async def incoming_sms(form: TwilioForm) -> Response:
    # An empty <Response/> sends no reply.
    _ = form
    return TwiML(EMPTY_TWIML)
