"""Receiving Twilio's requests: signature check, TwiML answers, and voice routes that never fail.

Twilio plays "an application error has occurred" for any 4xx/5xx or non-TwiML answer, so voice
routes catch everything past the signature check and answer with a safe TwiML path instead.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import Depends, HTTPException, Request
from fastapi.responses import Response
from fastapi.routing import APIRoute
from starlette.datastructures import FormData, UploadFile
from twilio.request_validator import HMAC_SHA256, RequestValidator, compare, get_signature_algorithm

log = logging.getLogger(__name__)

TWIML_MEDIA_TYPE = "text/xml; charset=utf-8"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response />'
# Twilio's own requests are a few kB; a 10 kB SpeechResult still fits with room to spare.
MAX_WEBHOOK_BODY = 64 * 1024


class TwiML(Response):
    media_type = TWIML_MEDIA_TYPE


def public_url_of(request: Request, public_base: str) -> str:
    """The URL Twilio signed: our public base, plus the path and query exactly as sent."""
    raw_path = request.scope.get("raw_path") or request.url.path.encode()
    url = public_base + raw_path.decode("latin-1")
    query = request.scope.get("query_string", b"")
    return f"{url}?{query.decode('latin-1')}" if query else url


async def _read_body(request: Request) -> bytes:
    """The body, refused past MAX_WEBHOOK_BODY even when no Content-Length was sent."""
    length = request.headers.get("content-length")
    if length is not None and (not length.isdigit() or int(length) > MAX_WEBHOOK_BODY):
        raise HTTPException(status_code=413, detail="request body too large for a Twilio webhook")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_WEBHOOK_BODY:
            raise HTTPException(
                status_code=413, detail="request body too large for a Twilio webhook"
            )
        chunks.append(chunk)
    return b"".join(chunks)


async def signed_form(request: Request) -> FormData:
    """The request's form, once its X-Twilio-Signature is proven; 403 otherwise."""
    signatures = request.headers.getlist("x-twilio-signature")
    if len(signatures) != 1 or not signatures[0]:
        # Twilio sends exactly one; two leave open which one a proxy or a check looked at.
        raise HTTPException(status_code=403, detail="one X-Twilio-Signature is required")
    signature = signatures[0]
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith("application/x-www-form-urlencoded"):
        raise HTTPException(status_code=403, detail="Twilio sends form-encoded webhooks")
    body = await _read_body(request)
    try:
        # parse_qsl is several times cheaper than Starlette's general form parser.
        pairs: list[tuple[str, str | UploadFile]] = parse_qsl(  # type: ignore[assignment]
            body.decode("utf-8"), keep_blank_values=True, strict_parsing=False, max_num_fields=200
        )
    except (UnicodeDecodeError, ValueError) as exc:
        raise HTTPException(status_code=403, detail="unreadable webhook body") from exc
    form = FormData(pairs)
    algorithm = get_signature_algorithm(request.headers.get("x-twilio-webhooks-signature-settings"))
    validators: SignatureValidators = request.app.state.twilio_validators
    validator = validators.for_algorithm(algorithm)
    url = public_url_of(request, request.app.state.settings.public_url)
    # The exact URL first (one HMAC); Twilio's own check also tries the URL with and without
    # the port, which costs two more.
    expected = validator.compute_signature(url, form, algorithm)
    if not (compare(expected, signature) or validator.validate(url, form, signature, algorithm)):
        raise HTTPException(status_code=403, detail="invalid X-Twilio-Signature")
    # A route's fallback TwiML may depend on what Twilio said (only ever a signed form).
    request.state.twilio_form = form
    return form


def signed_field(request: Request, name: str) -> str:
    """A field of the request's signed form, for fallbacks; empty if none was proven."""
    form: FormData | None = getattr(request.state, "twilio_form", None)
    return field(form, name) if form is not None else ""


class SignatureValidators:
    """The auth token signs classic webhooks; a configured shared key signs HMAC-SHA256 ones."""

    def __init__(self, auth_token: str, shared_key: str | None = None) -> None:
        self._classic = RequestValidator(auth_token)
        self._shared = RequestValidator(shared_key) if shared_key else self._classic

    def for_algorithm(self, algorithm: str) -> RequestValidator:
        return self._shared if algorithm.upper() == HMAC_SHA256 else self._classic


TwilioForm = Annotated[FormData, Depends(signed_form)]


def field(form: FormData, name: str, *, limit: int = 256) -> str:
    """A form field as text, empty when absent, cut to `limit` characters."""
    value = form.get(name)
    return value[:limit] if isinstance(value, str) else ""


SafeAnswer = Callable[[Request], str]


def fallback(answer: SafeAnswer) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Name the TwiML a voice route answers with if anything past the signature fails."""

    def mark(endpoint: Callable[..., Any]) -> Callable[..., Any]:
        endpoint.__voice_fallback__ = answer  # type: ignore[attr-defined]
        return endpoint

    return mark


def _safe_twiml(answer: SafeAnswer | None, request: Request) -> str:
    if answer is None:
        return EMPTY_TWIML
    try:
        return answer(request)
    except Exception:
        log.exception("fallback TwiML failed too")
        return EMPTY_TWIML


# What a Twilio route answers besides TwiML, in the OpenAPI document. Spelled out: a `model`
# would be filed under the route's own media type, text/xml.
_ERROR_JSON = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
WEBHOOK_RESPONSES: dict[int | str, dict[str, Any]] = {
    403: {"content": _ERROR_JSON, "description": "no valid X-Twilio-Signature"},
    413: {"content": _ERROR_JSON, "description": "payload too large"},
}


class VoiceRoute(APIRoute):
    """A Twilio route: 403 for bad signatures, otherwise always TwiML."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        kwargs["responses"] = {**WEBHOOK_RESPONSES, **(kwargs.get("responses") or {})}
        super().__init__(path, endpoint, **kwargs)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        safe_answer: SafeAnswer | None = getattr(self.endpoint, "__voice_fallback__", None)
        path = self.path

        async def answer(request: Request) -> Response:
            try:
                response = await handler(request)
            except HTTPException as exc:
                if exc.status_code in (403, 413):
                    raise
                log.warning("voice route %s: HTTP %s; answering fallback", path, exc.status_code)
                return TwiML(_safe_twiml(safe_answer, request))
            except Exception:
                log.exception("voice route %s failed; answering fallback TwiML", path)
                return TwiML(_safe_twiml(safe_answer, request))
            if response.status_code >= 400:
                return TwiML(_safe_twiml(safe_answer, request))
            return response

        return answer
