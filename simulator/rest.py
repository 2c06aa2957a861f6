"""Twilio's REST API, as much of it as the app uses, answering from an `Exchange`."""

from __future__ import annotations

import base64
import binascii
import secrets
from collections.abc import Awaitable, Callable
from datetime import datetime
from email.utils import format_datetime
from typing import Any

from starlette.applications import Starlette
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from simulator.call import Call
from simulator.exchange import Exchange, ExchangeError
from simulator.faults import RestFaults
from simulator.messaging import Message
from simulator.queueing import Member, Queue
from simulator.recording_api import make_endpoints

API = "/2010-04-01/Accounts/{account_sid}"


def _date(moment: datetime | None) -> str | None:
    return format_datetime(moment) if moment is not None else None


def _error(code: int, message: str, status: int) -> JSONResponse:
    return JSONResponse(
        {
            "code": code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        },
        status_code=status,
    )


def _not_found(what: str) -> JSONResponse:
    return _error(20404, f"The requested resource {what} was not found", 404)


def call_json(call: Call) -> dict[str, Any]:
    account = call.exchange.account_sid
    uri = f"/2010-04-01/Accounts/{account}/Calls/{call.sid}"
    return {
        "sid": call.sid,
        "account_sid": account,
        "to": call.to,
        "to_formatted": call.to,
        "from": call.from_,
        "from_formatted": call.from_,
        "status": call.status,
        "direction": call.direction,
        "api_version": "2010-04-01",
        "date_created": _date(call.created_at),
        "date_updated": _date(call.clock.now()),
        "start_time": _date(call.created_at),
        "end_time": None if call.live else _date(call.clock.now()),
        "duration": None if call.live else str(call.record.duration),
        "parent_call_sid": None,
        "phone_number_sid": None,
        "price": None,
        "price_unit": "USD",
        "answered_by": call.answered_by,
        "caller_name": None,
        "forwarded_from": None,
        "group_sid": None,
        "queue_time": "0",
        "trunk_sid": None,
        "uri": f"{uri}.json",
        "subresource_uris": {"recordings": f"{uri}/Recordings.json"},
    }


def queue_json(queue: Queue, account: str) -> dict[str, Any]:
    return {
        "sid": queue.sid,
        "account_sid": account,
        "friendly_name": queue.name,
        "current_size": len(queue.members),
        "max_size": queue.max_size,
        "average_wait_time": queue.average_wait(),
        "date_created": _date(queue.created),
        "date_updated": _date(queue.created),
        "uri": f"/2010-04-01/Accounts/{account}/Queues/{queue.sid}.json",
    }


def member_json(queue: Queue, member: Member, account: str, position: int) -> dict[str, Any]:
    sid = member.call.sid
    return {
        "call_sid": sid,
        "queue_sid": queue.sid,
        "date_enqueued": _date(member.date_enqueued),
        "position": position,
        "wait_time": round(member.call.clock.elapsed() - member.joined_at),
        "uri": f"/2010-04-01/Accounts/{account}/Queues/{queue.sid}/Members/{sid}.json",
    }


def message_json(message: Message) -> dict[str, Any]:
    return {
        "sid": message.sid,
        "account_sid": message.account_sid,
        "to": message.to,
        "from": message.from_,
        "body": message.body,
        "status": message.status,
        "direction": message.direction,
        "num_segments": "1",
        "num_media": "0",
        "api_version": "2010-04-01",
        "date_created": _date(message.date_created),
        "date_updated": _date(message.date_created),
        "date_sent": None,
        "error_code": message.error_code,
        "error_message": None,
        "messaging_service_sid": None,
        "price": None,
        "price_unit": "USD",
        "uri": f"/2010-04-01/Accounts/{message.account_sid}/Messages/{message.sid}.json",
        "subresource_uris": {},
    }


def _events(form: FormData) -> tuple[str, ...]:
    """StatusCallbackEvent as repeated values or one space-separated string."""
    events: list[str] = []
    for value in form.getlist("StatusCallbackEvent"):
        events.extend(str(value).replace(",", " ").split())
    return tuple(events) or ("completed",)


def _authorized(request: Request, exchange: Exchange, auth_token: str) -> bool:
    header = request.headers.get("Authorization", "")
    if not header.startswith("Basic "):
        return False
    try:
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return False
    return (
        secrets.compare_digest(user, exchange.account_sid)
        and secrets.compare_digest(password, auth_token)
        and request.path_params.get("account_sid") == exchange.account_sid
    )


Endpoint = Callable[[Request, FormData], Awaitable[Response]]


def create_rest_app(
    exchange: Exchange, auth_token: str, faults: RestFaults | None = None
) -> Starlette:
    """The REST emulator; point `twilio.rest.Client` at it with a base-URL HTTP client.
    `faults` (simulator/faults.py) makes it fail, hang or hold requests when the test says."""
    faults = faults or RestFaults()

    def guarded(endpoint: Endpoint) -> Callable[[Request], Awaitable[Response]]:
        async def handle(request: Request) -> Response:
            if not _authorized(request, exchange, auth_token):
                return _error(20003, "Authenticate", 401)
            await faults.hang_while_on()
            status = faults.failure()
            if status is not None:
                return _error(20500, "An internal server error has occurred", status)
            form = await request.form()
            try:
                return await endpoint(request, form)
            except ExchangeError as exc:
                return _error(exc.code, exc.message, exc.status)

        return handle

    def field(form: FormData, name: str) -> str | None:
        value = form.get(name)
        return str(value) if value is not None else None

    async def create_call(request: Request, form: FormData) -> Response:
        to, from_ = field(form, "To"), field(form, "From")
        if not to or not from_:
            return _error(21201 if not to else 21213, "To and From are required", 400)
        if await faults.hold_point("calls.create", taken=False):
            return _error(20503, "Service unavailable", 503)
        call = exchange.start_outbound(
            to=to,
            from_=from_,
            url=field(form, "Url"),
            method=(field(form, "Method") or "POST").upper(),
            twiml=field(form, "Twiml"),
            status_callback=field(form, "StatusCallback"),
            status_callback_method=(field(form, "StatusCallbackMethod") or "POST").upper(),
            status_callback_events=_events(form),
            timeout=int(field(form, "Timeout") or 60),
            machine_detection=field(form, "MachineDetection"),
        )
        await faults.hold_point("calls.create", taken=True)
        return JSONResponse(call_json(call), status_code=201)

    async def call_resource(request: Request, form: FormData) -> Response:
        call = exchange.calls.get(request.path_params["call_sid"])
        if call is None:
            return _not_found(request.path_params["call_sid"])
        if request.method == "POST":
            exchange.update_call(
                call.sid,
                url=field(form, "Url"),
                method=field(form, "Method") or "POST",
                twiml=field(form, "Twiml"),
                status=field(form, "Status"),
            )
        return JSONResponse(call_json(call))

    async def queues(request: Request, form: FormData) -> Response:
        account = exchange.account_sid
        if request.method == "POST":
            name = field(form, "FriendlyName")
            if not name:
                return _error(20001, "FriendlyName is required", 400)
            queue = exchange.create_queue(name, int(field(form, "MaxSize") or 1000))
            return JSONResponse(queue_json(queue, account), status_code=201)
        items = [queue_json(q, account) for q in exchange.queues.values()]
        uri = f"/2010-04-01/Accounts/{account}/Queues.json"
        return JSONResponse(
            {
                "queues": items,
                "uri": uri,
                "first_page_uri": uri,
                "next_page_uri": None,
                "previous_page_uri": None,
                "page": 0,
                "page_size": 50,
                "start": 0,
                "end": max(0, len(items) - 1),
            }
        )

    async def queue_resource(request: Request, form: FormData) -> Response:
        queue = exchange.queues.get(request.path_params["queue_sid"])
        if queue is None:
            return _not_found(request.path_params["queue_sid"])
        return JSONResponse(queue_json(queue, exchange.account_sid))

    async def member_resource(request: Request, form: FormData) -> Response:
        queue = exchange.queues.get(request.path_params["queue_sid"])
        member = queue.find(request.path_params["member"]) if queue else None
        if queue is None or member is None:
            return _not_found(request.path_params["member"])
        position = queue.position(member)
        if request.method == "POST":
            url = field(form, "Url")
            if not url:
                return _error(20001, "Url is required", 400)
            exchange.dequeue(
                queue.sid, member.call.sid, url=url, method=field(form, "Method") or "POST"
            )
        return JSONResponse(member_json(queue, member, exchange.account_sid, position))

    async def messages(request: Request, form: FormData) -> Response:
        if request.method == "POST":
            return await create_message(request, form)
        # messages.list: newest first, filtered on To and From as Twilio does; one page.
        query = request.query_params
        found = [
            message
            for message in exchange.messages.values()
            if query.get("To") in (None, message.to) and query.get("From") in (None, message.from_)
        ]
        found.sort(key=lambda message: message.date_created, reverse=True)
        size = int(query.get("PageSize") or 50)
        items = [message_json(message) for message in found[:size]]
        uri = f"/2010-04-01/Accounts/{exchange.account_sid}/Messages.json"
        return JSONResponse(
            {
                "messages": items,
                "uri": uri,
                "first_page_uri": uri,
                "next_page_uri": None,
                "previous_page_uri": None,
                "page": 0,
                "page_size": size,
                "start": 0,
                "end": max(0, len(items) - 1),
            }
        )

    async def create_message(request: Request, form: FormData) -> Response:
        to = field(form, "To")
        from_ = field(form, "From") or field(form, "MessagingServiceSid")
        body = field(form, "Body")
        if not to or not from_ or body is None:
            return _error(21602 if body is None else 21604, "To, From and Body are required", 400)
        if await faults.hold_point("messages.create", taken=False):
            return _error(20503, "Service unavailable", 503)
        message = exchange.send_message(
            to=to, from_=from_, body=body, status_callback=field(form, "StatusCallback")
        )
        await faults.hold_point("messages.create", taken=True)
        return JSONResponse(message_json(message), status_code=201)

    async def message_resource(request: Request, form: FormData) -> Response:
        message = exchange.messages.get(request.path_params["message_sid"])
        if message is None:
            return _not_found(request.path_params["message_sid"])
        return JSONResponse(message_json(message))

    recordings = make_endpoints(exchange)
    routes = [
        Route(f"{API}/Calls.json", guarded(create_call), methods=["POST"]),
        Route(f"{API}/Calls/{{call_sid}}.json", guarded(call_resource), methods=["GET", "POST"]),
        Route(
            f"{API}/Calls/{{call_sid}}/Recordings/{{recording_sid}}.json",
            guarded(recordings["call_recording"]),
            methods=["GET", "POST"],
        ),
        Route(
            f"{API}/Recordings/{{recording_sid}}.json",
            guarded(recordings["recording"]),
            methods=["GET", "DELETE"],
        ),
        # The media URL: WAV without an extension (Twilio's default) or with .wav.
        Route(f"{API}/Recordings/{{recording_sid}}", guarded(recordings["media"]), methods=["GET"]),
        Route(
            f"{API}/Recordings/{{recording_sid}}.wav", guarded(recordings["media"]), methods=["GET"]
        ),
        Route(f"{API}/Queues.json", guarded(queues), methods=["GET", "POST"]),
        Route(f"{API}/Queues/{{queue_sid}}.json", guarded(queue_resource), methods=["GET"]),
        Route(
            f"{API}/Queues/{{queue_sid}}/Members/{{member}}.json",
            guarded(member_resource),
            methods=["GET", "POST"],
        ),
        Route(f"{API}/Messages.json", guarded(messages), methods=["GET", "POST"]),
        Route(f"{API}/Messages/{{message_sid}}.json", guarded(message_resource), methods=["GET"]),
    ]
    return Starlette(routes=routes)
