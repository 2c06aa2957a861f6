"""Requests from 'Twilio' to the app: signed, timed, and judged the way Twilio judges them."""

from __future__ import annotations

import asyncio
import secrets
import time
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit, urlunsplit

import httpx

from simulator.clock import SimClock
from simulator.signing import compute_signature, form_encode
from simulator.transcript import CallError, Event, WebhookRequest
from simulator.twiml import MAX_DOCUMENT_BYTES, TwimlError, parse_document

XML_CONTENT_TYPES = ("text/xml", "application/xml")


@dataclass
class AppEndpoint:
    """How the emulator reaches the app, and the public base URL the app believes it has.

    Signatures are computed over the public URL; the request itself goes through `client`,
    whose own `base_url` (if set) replaces the public base, so an in-process ASGI app and a
    server behind a proxy both work.
    """

    client: httpx.AsyncClient
    public_base: str
    auth_token: str
    timeout: float = 15.0
    # At volume the same few URLs are resolved and parsed thousands of times a second; both
    # are pure functions of their arguments (and the client's base URL, part of the key).
    _resolved: dict[tuple[str, str | None], str] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    _parsed: dict[tuple[str, str], httpx.URL] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def resolve(self, url: str, relative_to: str | None = None) -> str:
        """Absolute public URL of `url`, relative URLs resolving against the containing one."""
        key = (url, relative_to)
        resolved = self._resolved.get(key)
        if resolved is None:
            resolved = urljoin(relative_to or self.public_base.rstrip("/") + "/", url)
            _remember(self._resolved, key, resolved)
        return resolved

    def transport_url(self, public_url: str) -> str:
        base = str(self.client.base_url).rstrip("/")
        public = self.public_base.rstrip("/")
        if base and public_url.startswith(public):
            return base + public_url[len(public) :]
        return public_url

    def parsed_transport_url(self, public_url: str) -> httpx.URL:
        """`transport_url` parsed, as the client would parse it (for URLs seen again and again:
        a GET's URL carries the call's parameters)."""
        key = (public_url, str(self.client.base_url))
        parsed = self._parsed.get(key)
        if parsed is None:
            parsed = httpx.URL(self.transport_url(public_url))
            _remember(self._parsed, key, parsed)
        return parsed


# URLs with a call's own query parameters are seldom seen twice: the caches start over
# rather than grow through a long run.
CACHE_LIMIT = 4096


def _remember(cache: dict[Any, Any], key: Any, value: Any) -> None:
    if len(cache) >= CACHE_LIMIT:
        cache.clear()
    cache[key] = value


@dataclass(frozen=True)
class Delivery:
    request: WebhookRequest
    response: httpx.Response | None
    error: CallError | None


def _with_query(url: str, params: Mapping[str, str]) -> str:
    parts = urlsplit(url)
    extra = urlencode(list(params.items()))
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


async def deliver(
    endpoint: AppEndpoint,
    clock: SimClock,
    *,
    method: str,
    url: str,
    params: Mapping[str, str],
    purpose: str,
    idempotency_token: str | None = None,
) -> Delivery:
    """One signed request; transport failures become Twilio's 11200/11205."""
    at = clock.elapsed()
    token = idempotency_token or secrets.token_hex(16)
    headers = {"I-Twilio-Idempotency-Token": token, "User-Agent": "TwilioProxy/1.1"}
    if method == "GET":
        signed_url = _with_query(url, params)
        headers["X-Twilio-Signature"] = compute_signature(endpoint.auth_token, signed_url, {})
        send = endpoint.client.request(
            "GET", endpoint.transport_url(signed_url), headers=headers, follow_redirects=True
        )
    else:
        headers["X-Twilio-Signature"] = compute_signature(endpoint.auth_token, url, params)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        send = endpoint.client.request(
            "POST",
            endpoint.parsed_transport_url(url),
            content=form_encode(params),
            headers=headers,
            follow_redirects=True,
        )
    started = time.monotonic()
    response: httpx.Response | None = None
    error: CallError | None = None
    try:
        # A timeout scope, not wait_for: the same deadline without a task per request.
        async with asyncio.timeout(endpoint.timeout):
            response = await send
    except (TimeoutError, httpx.TimeoutException):
        error = CallError(at, 11205, f"no answer within {endpoint.timeout:g} s", url)
    except httpx.HTTPError as exc:
        error = CallError(at, 11200, f"HTTP retrieval failure: {exc!r}", url)
    latency_ms = (time.monotonic() - started) * 1000
    if response is not None and not response.is_success:
        error = CallError(at, 11200, f"HTTP retrieval failure: status {response.status_code}", url)
    request = WebhookRequest(
        at=at,
        method=method,
        url=url,
        params=dict(params),
        status=response.status_code if response is not None else None,
        latency_ms=latency_ms,
        purpose=purpose,
    )
    return Delivery(request, response, error)


async def fetch_twiml(
    endpoint: AppEndpoint,
    clock: SimClock,
    log: list[Event],
    *,
    method: str,
    url: str,
    params: Mapping[str, str],
    purpose: str,
) -> ET.Element | None:
    """The TwiML document at `url`, or None after recording the error Twilio would report."""
    delivery = await deliver(
        endpoint, clock, method=method, url=url, params=params, purpose=purpose
    )
    log.append(delivery.request)
    if delivery.error is not None:
        log.append(delivery.error)
        return None
    assert delivery.response is not None
    response = delivery.response
    at = delivery.request.at
    body = response.content
    if len(body) > MAX_DOCUMENT_BYTES:
        log.append(CallError(at, 11750, f"response body is {len(body)} bytes", url))
        return None
    content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in XML_CONTENT_TYPES:
        log.append(CallError(at, 12300, f"invalid Content-Type {content_type or 'none'!r}", url))
        return None
    try:
        return parse_document(body)
    except TwimlError as exc:
        log.append(CallError(at, exc.code, exc.message, url))
        return None


async def post_callback(
    endpoint: AppEndpoint,
    clock: SimClock,
    log: list[Event],
    *,
    url: str,
    params: Mapping[str, str],
    purpose: str,
    method: str = "POST",
    idempotency_token: str | None = None,
) -> None:
    """A fire-and-forget callback: its failure is logged on the call, never ends it."""
    delivery = await deliver(
        endpoint,
        clock,
        method=method,
        url=url,
        params=params,
        purpose=purpose,
        idempotency_token=idempotency_token,
    )
    log.append(delivery.request)
    if delivery.error is not None:
        error = delivery.error
        log.append(CallError(error.at, error.code, error.message, url, fatal=False))
