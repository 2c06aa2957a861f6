"""The REST gateway reaches the configured base URL; without credentials it keeps an outbox."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from hotline.clock import FrozenClock
from hotline.outbox import OutboxMessage
from hotline.settings import Settings
from hotline.twilio_gateway import OutboxGateway, RestGateway, make_gateway
from tests.conftest import TEST_ACCOUNT, TEST_TOKEN


class _Recorder(BaseHTTPRequestHandler):
    seen: list[tuple[str, str, dict[str, list[str]], str]] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        self.seen.append((self.command, self.path, parse_qs(body), self.headers["Authorization"]))
        payload = {"sid": "SM" + "0" * 32, "status": "queued"}
        if "/Calls" in self.path:
            payload = {"sid": "CA" + "0" * 32, "status": "queued"}
        data = json.dumps(payload).encode()
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        return


@pytest.fixture
def local_api() -> Iterator[str]:
    _Recorder.seen = []
    server = HTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_rest_requests_go_to_the_configured_base_url(local_api: str) -> None:
    settings = Settings(
        twilio_api_base=local_api, twilio_account_sid=TEST_ACCOUNT, twilio_auth_token=TEST_TOKEN
    )
    gateway = RestGateway.from_settings(settings)
    sid = gateway.send_sms(
        to="+8613800138000", from_="+864008895555", body="您好", status_callback=None
    )
    assert sid.startswith("SM")
    call_sid = gateway.create_call(
        to="+8613800138000", from_="+864008895555", url="https://h/x", status_callback="https://h/s"
    )
    assert call_sid.startswith("CA")
    (_, sms_path, sms_form, auth), (_, call_path, call_form, _) = _Recorder.seen
    assert sms_path == f"/2010-04-01/Accounts/{TEST_ACCOUNT}/Messages.json"
    assert sms_form["Body"] == ["您好"]
    assert auth == "Basic " + base64.b64encode(f"{TEST_ACCOUNT}:{TEST_TOKEN}".encode()).decode()
    assert call_path.endswith("/Calls.json")
    assert call_form["StatusCallbackEvent"] == ["initiated ringing answered completed"]


def test_without_credentials_requests_land_in_the_outbox(
    engine: Engine, clock: FrozenClock
) -> None:
    gateway = make_gateway(Settings(), engine, clock.now)
    assert isinstance(gateway, OutboxGateway)
    gateway.send_sms(to="+8613800138000", from_="+864008895555", body="hi", status_callback=None)
    gateway.update_call(call_sid="CA" + "1" * 32, url="https://h/next")
    with Session(engine) as session:
        rows = session.exec(select(OutboxMessage).order_by(OutboxMessage.id)).all()  # type: ignore[arg-type]
    assert [row.operation for row in rows] == ["messages.create", "calls.update"]
    assert rows[0].payload["to"] == "+8613800138000"
