"""Request bodies refused past a size before they are read: by their Content-Length, and by
counting the bytes of a body sent without one (chunked).

A pure ASGI middleware, outside everything else, so no route ever buffers an oversized body.
Twilio's webhooks have a tighter limit of their own (`twilio_webhook.MAX_WEBHOOK_BODY`).
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hotline.errors import error_response

# The largest JSON the API takes (a ticket with a long note) is a few kB; a margin of 250x.
MAX_REQUEST_BODY = 1024 * 1024


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(status_code=413, detail=f"request body larger than {limit} bytes")


class BodyLimit:
    """413 in the stable error body for a body over `max_bytes`; 400 for a Content-Length
    that is not one plain number (two differing lengths are a request-smuggling trick)."""

    def __init__(self, app: ASGIApp, *, max_bytes: int = MAX_REQUEST_BODY) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        lengths = set(Headers(scope=scope).getlist("content-length"))
        if len(lengths) > 1 or not all(length.isdigit() for length in lengths):
            await error_response(400, "bad_request", "one numeric Content-Length, please")(
                scope, receive, send
            )
            return
        if lengths and int(lengths.pop()) > self.max_bytes:
            await error_response(413, "payload_too_large", BodyTooLarge(self.max_bytes).detail)(
                scope, receive, send
            )
            return
        received = 0
        started = False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # Raised where the route reads its body: the error handlers answer it.
                    raise BodyTooLarge(self.max_bytes)
            return message

        async def sending(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, sending)
        except BodyTooLarge as exc:
            # Read outside a route (a middleware): answer here if nothing was sent yet.
            if started:
                raise
            await error_response(413, "payload_too_large", exc.detail)(scope, receive, send)
