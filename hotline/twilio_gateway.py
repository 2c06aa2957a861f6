"""Twilio REST behind one small interface: the real client, or an outbox for demos.

The real client goes to `HOTLINE_TWILIO_API_BASE` when it is set (the simulator), to Twilio
otherwise, always with a timeout. Calls are synchronous: use them from jobs or a thread, never
inside an `async def` handler's event loop.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, BinaryIO, Protocol
from urllib.parse import urlsplit, urlunsplit

import httpx
from sqlalchemy import Engine
from sqlmodel import col, select
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from hotline.db import session_scope
from hotline.outbox import OutboxMessage
from hotline.phone import mask
from hotline.settings import Settings

log = logging.getLogger(__name__)

# Looking a message up: Twilio's clock and ours may differ a little; a survey is one of few
# texts a customer gets, so the newest few are enough.
LOOKUP_SLACK = timedelta(minutes=2)
LOOKUP_LIMIT = 50


# Twilio's name for "the recording running now on this call" in a recording update.
CURRENT_RECORDING = "Twilio.CURRENT"
_MEDIA_CHUNK = 64 * 1024


class RecordingUnavailable(Exception):
    """Twilio did not hand over a recording's audio (an HTTP error, or no credentials)."""


@dataclass(frozen=True)
class RecordingDownload:
    """What came with a recording's audio: its type and the length Twilio announced."""

    content_type: str
    declared_length: int | None
    received: int


class TwilioGateway(Protocol):
    def create_call(
        self,
        *,
        to: str,
        from_: str,
        url: str,
        status_callback: str,
        machine_detection: str | None = None,
        timeout: int | None = None,
    ) -> str: ...

    def update_call(
        self,
        *,
        call_sid: str,
        url: str | None = None,
        twiml: str | None = None,
        status: str | None = None,
    ) -> None: ...

    def redirect_queue_member(self, *, queue_sid: str, call_sid: str, url: str) -> None: ...

    def send_sms(self, *, to: str, from_: str, body: str, status_callback: str | None) -> str: ...

    def find_sms(self, *, to: str, from_: str, body: str, since: datetime) -> str | None:
        """The sid of a message with this text sent to `to` since `since`, if Twilio has one:
        how a job that died after sending learns that it did."""

    def download_recording(self, *, media_url: str, into: BinaryIO) -> RecordingDownload:
        """Write a recording's audio into `into` (an authenticated GET of its media URL)."""
        ...

    def delete_recording(self, *, recording_sid: str) -> None:
        """Delete a recording from Twilio; one already gone is no error."""
        ...

    def update_call_recording(
        self, *, call_sid: str, status: str, pause_behavior: str | None = None
    ) -> None:
        """Pause or resume the recording running now on a call (`Twilio.CURRENT`)."""
        ...


class BaseUrlHttpClient(TwilioHttpClient):  # type: ignore[misc]
    """Sends every request to `base` instead of the Twilio host it was meant for."""

    def __init__(self, base: str, timeout: float) -> None:
        super().__init__(timeout=timeout)
        parts = urlsplit(base)
        self._scheme, self._netloc, self._prefix = (
            parts.scheme,
            parts.netloc,
            parts.path.rstrip("/"),
        )

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        parts = urlsplit(url)
        local = urlunsplit(
            (self._scheme, self._netloc, self._prefix + parts.path, parts.query, parts.fragment)
        )
        return super().request(method, local, *args, **kwargs)


def _rebased(url: str, base: str | None) -> str:
    """`url` with its scheme and host (and a path prefix) taken from `base`, if given."""
    if not base:
        return url
    target, parts = urlsplit(base), urlsplit(url)
    path = target.path.rstrip("/") + parts.path
    return urlunsplit((target.scheme, target.netloc, path, parts.query, ""))


class RestGateway:
    def __init__(
        self,
        client: Client,
        *,
        api_base: str | None = None,
        timeout: float = 5.0,
    ) -> None:
        self._client = client
        self._api_base = api_base
        self._timeout = timeout
        self._media: httpx.Client | None = None

    def _media_client(self) -> httpx.Client:
        # One client for the process: a new one per download would build a TLS context each
        # time (a fifth of a worker's CPU at volume).
        if self._media is None:
            self._media = httpx.Client(timeout=self._timeout)
        return self._media

    @classmethod
    def from_settings(cls, settings: Settings) -> RestGateway:
        http_client = (
            BaseUrlHttpClient(settings.twilio_api_base, settings.twilio_timeout_seconds)
            if settings.twilio_api_base
            else TwilioHttpClient(timeout=settings.twilio_timeout_seconds)
        )
        client = Client(
            settings.twilio_account_sid, settings.twilio_auth_token, http_client=http_client
        )
        return cls(
            client, api_base=settings.twilio_api_base, timeout=settings.twilio_timeout_seconds
        )

    def create_call(
        self,
        *,
        to: str,
        from_: str,
        url: str,
        status_callback: str,
        machine_detection: str | None = None,
        timeout: int | None = None,
    ) -> str:
        params: dict[str, Any] = {}
        if machine_detection:
            # "Enable": the answer request carries AnsweredBy (human, machine_start, fax, ...).
            params["machine_detection"] = machine_detection
        if timeout:
            params["timeout"] = timeout  # how long it rings; Twilio's default is 60 s
        call = self._client.calls.create(
            to=to,
            from_=from_,
            url=url,
            status_callback=status_callback,
            # One string: twilio-python would render a list as its repr.
            status_callback_event="initiated ringing answered completed",
            **params,
        )
        log.info("placed call %s to %s", call.sid, mask(to))
        return str(call.sid)

    def update_call(
        self,
        *,
        call_sid: str,
        url: str | None = None,
        twiml: str | None = None,
        status: str | None = None,
    ) -> None:
        params: dict[str, Any] = {}
        if url is not None:
            params["url"] = url
        if twiml is not None:
            params["twiml"] = twiml
        if status is not None:
            params["status"] = status
        self._client.calls(call_sid).update(**params)

    def redirect_queue_member(self, *, queue_sid: str, call_sid: str, url: str) -> None:
        self._client.queues(queue_sid).members(call_sid).update(url=url)

    def send_sms(self, *, to: str, from_: str, body: str, status_callback: str | None) -> str:
        params: dict[str, Any] = {"to": to, "from_": from_, "body": body}
        if status_callback:
            params["status_callback"] = status_callback
        message = self._client.messages.create(**params)
        log.info("sent SMS %s to %s", message.sid, mask(to))
        return str(message.sid)

    def find_sms(self, *, to: str, from_: str, body: str, since: datetime) -> str | None:
        earliest = since - LOOKUP_SLACK
        for message in self._client.messages.list(to=to, from_=from_, limit=LOOKUP_LIMIT):
            created = message.date_created
            if message.body == body and (created is None or created >= earliest):
                return str(message.sid)
        return None

    def download_recording(self, *, media_url: str, into: BinaryIO) -> RecordingDownload:
        # Plain httpx: twilio-python's client keeps bodies as text, which would mangle audio.
        auth = (self._client.username, self._client.password)
        url = _rebased(media_url, self._api_base)
        received = 0
        try:
            with self._media_client().stream("GET", url, auth=auth) as response:
                if response.status_code != 200:
                    raise RecordingUnavailable(f"GET {media_url}: HTTP {response.status_code}")
                for chunk in response.iter_bytes(_MEDIA_CHUNK):
                    into.write(chunk)
                    received += len(chunk)
                length = response.headers.get("Content-Length")
                content_type = response.headers.get("Content-Type", "audio/x-wav")
        except httpx.HTTPError as exc:
            raise RecordingUnavailable(f"GET {media_url}: {exc}") from exc
        return RecordingDownload(
            content_type=content_type.split(";")[0].strip(),
            declared_length=int(length) if length and length.isdigit() else None,
            received=received,
        )

    def delete_recording(self, *, recording_sid: str) -> None:
        try:
            self._client.recordings(recording_sid).delete()
        except TwilioRestException as exc:
            if exc.status != 404:
                raise
        log.info("deleted recording %s from Twilio", recording_sid)

    def update_call_recording(
        self, *, call_sid: str, status: str, pause_behavior: str | None = None
    ) -> None:
        params: dict[str, Any] = {"status": status}
        if pause_behavior is not None:
            params["pause_behavior"] = pause_behavior
        self._client.calls(call_sid).recordings(CURRENT_RECORDING).update(**params)


class OutboxGateway:
    """With no Twilio credentials: keep what would have been sent, send nothing."""

    def __init__(self, engine: Engine, now: Callable[[], datetime]) -> None:
        self._engine = engine
        self._now = now

    def _record(self, operation: str, payload: dict[str, Any]) -> str:
        with session_scope(self._engine) as session:
            row = OutboxMessage(created_at=self._now(), operation=operation, payload=payload)
            session.add(row)
            session.flush()
            row_id = row.id
        log.info("outbox: %s (not sent: no Twilio credentials)", operation)
        return f"OB{row_id:032d}"

    def create_call(
        self,
        *,
        to: str,
        from_: str,
        url: str,
        status_callback: str,
        machine_detection: str | None = None,
        timeout: int | None = None,
    ) -> str:
        return self._record(
            "calls.create",
            {
                "to": to,
                "from": from_,
                "url": url,
                "status_callback": status_callback,
                "machine_detection": machine_detection,
                "timeout": timeout,
            },
        )

    def update_call(
        self,
        *,
        call_sid: str,
        url: str | None = None,
        twiml: str | None = None,
        status: str | None = None,
    ) -> None:
        self._record(
            "calls.update", {"call_sid": call_sid, "url": url, "twiml": twiml, "status": status}
        )

    def redirect_queue_member(self, *, queue_sid: str, call_sid: str, url: str) -> None:
        self._record(
            "queues.members.update", {"queue_sid": queue_sid, "call_sid": call_sid, "url": url}
        )

    def send_sms(self, *, to: str, from_: str, body: str, status_callback: str | None) -> str:
        return self._record(
            "messages.create",
            {"to": to, "from": from_, "body": body, "status_callback": status_callback},
        )

    def find_sms(self, *, to: str, from_: str, body: str, since: datetime) -> str | None:
        with session_scope(self._engine) as session:
            rows = session.exec(
                select(OutboxMessage)
                .where(OutboxMessage.operation == "messages.create")
                .where(col(OutboxMessage.created_at) >= since - LOOKUP_SLACK)
                .order_by(col(OutboxMessage.id))
            ).all()
        for row in rows:
            payload = row.payload
            if (payload.get("to"), payload.get("from"), payload.get("body")) == (to, from_, body):
                return f"OB{row.id:032d}"
        return None

    def download_recording(self, *, media_url: str, into: BinaryIO) -> RecordingDownload:
        self._record("recordings.fetch", {"media_url": media_url})
        raise RecordingUnavailable("no Twilio credentials: recordings cannot be fetched")

    def delete_recording(self, *, recording_sid: str) -> None:
        self._record("recordings.delete", {"recording_sid": recording_sid})

    def update_call_recording(
        self, *, call_sid: str, status: str, pause_behavior: str | None = None
    ) -> None:
        self._record(
            "calls.recordings.update",
            {
                "call_sid": call_sid,
                "recording_sid": CURRENT_RECORDING,
                "status": status,
                "pause_behavior": pause_behavior,
            },
        )


def make_gateway(settings: Settings, engine: Engine, now: Callable[[], datetime]) -> TwilioGateway:
    if settings.twilio_is_live:
        return RestGateway.from_settings(settings)
    return OutboxGateway(engine, now)


# Twilio's codes for a message that must not be retried: the recipient opted out (STOP/TD),
# or the number is not a valid one.
UNSUBSCRIBED = 21610
INVALID_NUMBER = 21211


def classify_failure(exc: BaseException) -> tuple[int | None, bool]:
    """(Twilio's error code if it gave one, whether trying again may help)."""
    if isinstance(exc, TwilioRestException):
        status = int(exc.status or 0)
        return exc.code, status >= 500 or status == 429
    # No answer at all (timeout, connection refused): Twilio may or may not have it.
    return None, True
