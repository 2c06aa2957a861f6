"""Headers every API answer carries: customers' data is neither sniffed nor cached.

`nosniff` stops a browser from reading a JSON body (a customer's name, a note) as HTML or
script; `no-store` keeps tickets, recordings and call logs out of browser and proxy caches,
where the next user of a shared desk could find them. A route that sets its own
Cache-Control (the live figures' event stream) keeps it.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

API_PREFIX = "/api/"


class ApiHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope.get("path", "").startswith(API_PREFIX):
            await self.app(scope, receive, send)
            return

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["X-Content-Type-Options"] = "nosniff"
                if "cache-control" not in headers:
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, sending)
