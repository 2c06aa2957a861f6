from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from simulator.callers import Directory, Step, VirtualCustomer, press, record
from simulator.clock import SimClock
from simulator.exchange import Exchange, PhoneNumber
from simulator.messaging import reply_messages
from simulator.server import EmulatorServer
from simulator.webhook import AppEndpoint
from tests.simulator.apps import ACCOUNT, BANK, CALLER, PUBLIC, TOKEN, TwimlApp, twiml


class BaseUrlHttpClient(TwilioHttpClient):  # type: ignore[misc]
    """What the app uses: every request goes to `base` instead of api.twilio.com."""

    def __init__(self, base: str) -> None:
        super().__init__(timeout=5)
        self._base = urlsplit(base)

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        parts = urlsplit(url)
        local = urlunsplit((self._base.scheme, self._base.netloc, parts.path, parts.query, ""))
        return super().request(method, local, *args, **kwargs)


VOICEMAIL = "+861095556"
APP = TwimlApp(
    {
        "/voice": lambda p: twiml('<Enqueue waitUrl="/hold">support</Enqueue>'),
        "/hold": lambda p: twiml('<Pause length="5"/>'),
        "/callback": lambda p: twiml(
            '<Gather action="/survey" numDigits="1"><Say>Rate us</Say></Gather>'
        ),
        "/survey": lambda p: twiml("<Say>Thanks</Say><Hangup/>"),
        "/dequeued": lambda p: twiml("<Say>Connecting</Say><Hangup/>"),
        "/sms": lambda p: twiml(""),
        "/voicemail": lambda p: twiml('<Record maxLength="3600"/>'),
    }
)


@pytest.fixture
def server() -> Iterator[EmulatorServer]:
    APP.received.clear()

    def make_exchange() -> Exchange:
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=APP), base_url=PUBLIC)
        return Exchange(
            endpoint=AppEndpoint(client, PUBLIC, TOKEN),
            account_sid=ACCOUNT,
            numbers=[
                PhoneNumber(BANK, "/voice", sms_url="/sms"),
                PhoneNumber(VOICEMAIL, "/voicemail"),
            ],
            clock=SimClock(2000),
            answerer=Directory(default=VirtualCustomer([press("5")], ring_seconds=2)),
            sms_replier=lambda message: "STOP",
        )

    with EmulatorServer(make_exchange, TOKEN) as running:
        yield running


def client_for(server: EmulatorServer, token: str = TOKEN) -> Client:
    return Client(ACCOUNT, token, http_client=BaseUrlHttpClient(server.base_url))


def test_calls_create_rings_a_virtual_customer_and_runs_the_apps_twiml(
    server: EmulatorServer,
) -> None:
    call = client_for(server).calls.create(
        to=CALLER,
        from_=BANK,
        url=f"{PUBLIC}/callback",
        status_callback=f"{PUBLIC}/status",
        status_callback_event="initiated ringing answered completed",
    )
    assert call.sid.startswith("CA") and call.status == "queued"
    assert server.exchange is not None
    record = server.run(server.exchange.wait_for(call.sid))
    assert record.said == ["Rate us", "Thanks"]
    assert APP.to("/survey")[0]["Digits"] == "5"
    assert APP.to("/survey")[0]["Direction"] == "outbound-api"
    server.run(server.exchange.drain())
    statuses = [p["CallStatus"] for p in APP.to("/status")]
    assert statuses == ["queued", "ringing", "in-progress", "completed"]


def test_a_queue_member_is_dequeued_to_a_url(server: EmulatorServer) -> None:
    assert server.exchange is not None
    exchange = server.exchange
    caller = server.run(_start_call(exchange))
    client = client_for(server)
    queue = _wait_for_queue(client)
    member = client.queues(queue.sid).members(caller).update(url=f"{PUBLIC}/dequeued")
    assert member.call_sid == caller
    record = server.run(exchange.wait_for(caller))
    assert record.said == ["Connecting"]
    assert APP.to("/dequeued")[0]["QueueResult"] == "redirected"


def test_calls_update_redirects_a_live_call(server: EmulatorServer) -> None:
    assert server.exchange is not None
    caller = server.run(_start_call(server.exchange))
    client = client_for(server)
    _wait_for_queue(client)
    updated = client.calls(caller).update(url=f"{PUBLIC}/survey")
    assert updated.sid == caller
    record = server.run(server.exchange.wait_for(caller))
    assert record.said == ["Thanks"]
    assert record.notes("redirected-by-api")


def test_messages_create_reports_delivery_and_the_reply_comes_in_signed(
    server: EmulatorServer,
) -> None:
    message = client_for(server).messages.create(
        to=CALLER, from_=BANK, body="您的案件已受理", status_callback=f"{PUBLIC}/sms-status"
    )
    assert message.sid.startswith("SM") and message.status == "queued"
    assert server.exchange is not None
    server.run(server.exchange.drain())
    assert [p["MessageStatus"] for p in APP.to("/sms-status")] == ["queued", "sent", "delivered"]
    reply = APP.to("/sms")[0]
    assert reply["Body"] == "STOP" and reply["OptOutType"] == "STOP" and reply["From"] == CALLER
    with pytest.raises(TwilioRestException) as refused:
        client_for(server).messages.create(to=CALLER, from_=BANK, body="again")
    assert refused.value.code == 21610


def test_a_wrong_token_gets_twilios_401(server: EmulatorServer) -> None:
    with pytest.raises(TwilioRestException) as refused:
        client_for(server, token="wrong").calls.create(to=CALLER, from_=BANK, url=PUBLIC)
    assert refused.value.status == 401 and refused.value.code == 20003


def test_an_unknown_call_is_twilios_404(server: EmulatorServer) -> None:
    with pytest.raises(TwilioRestException) as missing:
        client_for(server).calls("CA" + "f" * 32).update(url=f"{PUBLIC}/survey")
    assert missing.value.status == 404 and missing.value.code == 20404


def test_a_recording_is_paused_and_the_call_ended_over_rest(server: EmulatorServer) -> None:
    assert server.exchange is not None
    exchange = server.exchange
    caller = server.run(_start_call(exchange, [record(1200)], number=VOICEMAIL))
    for _ in range(200):
        if exchange.recordings:
            break
        time.sleep(0.005)
    recording_sid = next(iter(exchange.recordings))
    client = client_for(server)
    paused = client.calls(caller).recordings(recording_sid).update(status="paused")
    assert paused.status == "paused" and paused.call_sid == caller
    assert client.calls(caller).update(status="completed").sid == caller
    record_ = server.run(exchange.wait_for(caller))
    assert record_.outcome == "ended-by-api" and record_.status == "completed"
    assert record_.notes("recording-paused")


def test_queues_are_created_and_listed(server: EmulatorServer) -> None:
    client = client_for(server)
    created = client.queues.create(friendly_name="complaints", max_size=50)
    assert created.sid.startswith("QU") and created.max_size == 50
    assert [q.friendly_name for q in client.queues.list()] == ["complaints"]
    assert client.queues(created.sid).fetch().current_size == 0


async def _start_call(
    exchange: Exchange, script: list[Step] | None = None, number: str = BANK
) -> str:
    return exchange.start_call_in(from_=CALLER, to=number, script=script or []).sid


def _wait_for_queue(client: Client) -> Any:
    for _ in range(200):
        queues = client.queues.list()
        if queues and queues[0].current_size:
            return queues[0]
        time.sleep(0.01)
    raise AssertionError("the caller never reached the queue")


def test_messages_list_finds_the_texts_to_one_number(server: EmulatorServer) -> None:
    client = client_for(server)
    sent = client.messages.create(to=CALLER, from_=BANK, body="您的案件已处理完毕")
    client.messages.create(to="+8613900000000", from_=BANK, body="another customer")
    found = client.messages.list(to=CALLER, from_=BANK, limit=20)
    assert [(message.sid, message.body) for message in found] == [(sent.sid, "您的案件已处理完毕")]
    assert server.exchange is not None
    server.run(server.exchange.drain())


def test_the_apps_message_replies_are_what_the_phone_receives() -> None:
    twiml_answer = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        "<Response><Message>谢谢</Message><Message><Body>Thanks</Body></Message></Response>"
    )
    assert reply_messages(twiml_answer) == ["谢谢", "Thanks"]
    assert reply_messages("not xml") == []
