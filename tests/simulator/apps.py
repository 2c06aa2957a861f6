"""Small Twilio-facing apps for the emulator tests: each route answers from a handler, and every
request's signature is checked the way a real app checks it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from twilio.request_validator import RequestValidator

from simulator.callbacks import CallbackChaos
from simulator.callers import Answerer
from simulator.clock import SimClock
from simulator.exchange import Exchange, PhoneNumber
from simulator.webhook import AppEndpoint

TOKEN = "test-auth-token"
ACCOUNT = "AC" + "0" * 32
PUBLIC = "https://hotline.example.com"
BANK = "+861095555"
CALLER = "+8613812345678"

Handler = Callable[[dict[str, str]], "str | Response"]


def twiml(body: str) -> str:
    return f'<?xml version="1.0" encoding="UTF-8"?><Response>{body}</Response>'


@dataclass
class Received:
    path: str
    method: str
    params: dict[str, str]
    headers: dict[str, str]


@dataclass
class TwimlApp:
    """An ASGI app answering each path from `routes`; unknown paths get an empty Response."""

    routes: Mapping[str, Handler]
    received: list[Received] = field(default_factory=list)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        form = await request.form()
        params = {key: str(value) for key, value in form.items()}
        query = f"?{request.url.query}" if request.url.query else ""
        public_url = PUBLIC + request.url.path + query
        signature = request.headers.get("X-Twilio-Signature", "")
        if not RequestValidator(TOKEN).validate(public_url, params, signature):
            await Response("bad signature", status_code=403)(scope, receive, send)
            return
        if request.method == "GET":
            params = dict(request.query_params)
        self.received.append(
            Received(request.url.path, request.method, params, dict(request.headers))
        )
        handler = self.routes.get(request.url.path)
        answer: str | Response = handler(params) if handler else twiml("")
        response = Response(answer, media_type="text/xml") if isinstance(answer, str) else answer
        await response(scope, receive, send)

    def to(self, path: str) -> list[dict[str, str]]:
        return [r.params for r in self.received if r.path == path]


@asynccontextmanager
async def emulate(
    app: Any,
    *,
    numbers: Sequence[PhoneNumber] | None = None,
    answerer: Answerer | None = None,
    chaos: CallbackChaos | None = None,
    speed: float = 2000.0,
    timeout: float = 15.0,
) -> AsyncIterator[Exchange]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://app.internal") as client:
        exchange = Exchange(
            endpoint=AppEndpoint(client, PUBLIC, TOKEN, timeout=timeout),
            account_sid=ACCOUNT,
            numbers=numbers or [PhoneNumber(BANK, "/voice")],
            clock=SimClock(speed),
            answerer=answerer,
            chaos=chaos,
        )
        yield exchange
        await exchange.drain()
