"""Oversized bodies, header tricks and path tricks: refused in the stable error body (or, on
Twilio's routes, by the signature check), never a 5xx."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from urllib.parse import urlencode

import pytest
import redis
from fastapi.testclient import TestClient

from hotline.app import create_app
from hotline.body_limit import MAX_REQUEST_BODY
from hotline.settings import Settings
from tests.conftest import BACKENDS, Twilio, call_params
from tests.pages.serving import ServedApp

CHUNK = b'{"x": "' + b"a" * (64 * 1024) + b'"}'


def test_an_oversized_json_body_is_413_in_the_error_shape(
    app_client: TestClient, admin_headers: dict[str, str]
) -> None:
    body = b'{"name": "' + b"a" * MAX_REQUEST_BODY + b'"}'
    response = app_client.post(
        "/api/customers",
        content=body,
        headers={**admin_headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json()["error"] == "payload_too_large"


def test_an_oversized_chunked_body_is_413_too(
    app_client: TestClient, admin_headers: dict[str, str]
) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(MAX_REQUEST_BODY // len(CHUNK) + 2):
            yield CHUNK

    response = app_client.post(
        "/api/customers",
        content=chunks(),
        headers={**admin_headers, "Content-Type": "application/json"},
    )
    assert "content-length" not in response.request.headers
    assert response.status_code == 413
    assert response.json()["error"] == "payload_too_large"


def test_a_body_just_under_the_limit_is_read(
    app_client: TestClient, admin_headers: dict[str, str]
) -> None:
    body = b'{"name": "' + b"a" * (MAX_REQUEST_BODY - 100) + b'"}'
    response = app_client.post(
        "/api/customers",
        content=body,
        headers={**admin_headers, "Content-Type": "application/json"},
    )
    # Read and judged on its merits: a name that long is invalid, not too large.
    assert response.status_code == 422


@pytest.mark.parametrize("lengths", [["10", "20"], ["-1"], ["1e9"], ["0x10"]])
def test_a_crooked_content_length_is_a_400(
    app_client: TestClient, admin_headers: dict[str, str], lengths: list[str]
) -> None:
    headers = [("authorization", admin_headers["Authorization"])]
    headers += [("content-length", length) for length in lengths]
    response = app_client.post("/api/customers", content=b"{}", headers=headers)
    assert response.status_code == 400
    assert response.json() == {
        "error": "bad_request",
        "detail": "one numeric Content-Length, please",
    }


@pytest.fixture
def served(settings: Settings, redis_client: redis.Redis) -> Iterator[ServedApp]:
    with ServedApp(create_app(settings)) as app:
        yield app


def _exchange(url: str, head: bytes, body_chunks: Iterator[bytes]) -> tuple[bytes, int]:
    """Send `head`, then the chunks until the server answers; (answer, bytes of body sent)."""
    host, port = url.removeprefix("http://").split(":")
    sent = 0
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(head)
        sock.settimeout(0.05)
        for chunk in body_chunks:
            try:
                answer = sock.recv(65536)
            except TimeoutError:
                sock.sendall(chunk)
                sent += len(chunk)
                continue
            if answer:
                return answer, sent
        sock.settimeout(10)
        return sock.recv(65536), sent


@pytest.mark.parametrize("database", BACKENDS[:1], indirect=True)
def test_a_served_app_refuses_a_large_body_before_it_is_sent(served: ServedApp) -> None:
    head = (
        b"POST /api/customers HTTP/1.1\r\nHost: hotline\r\nContent-Type: application/json\r\n"
        b"Content-Length: 1000000000\r\n\r\n"
    )
    answer, sent = _exchange(served.url, head, iter([b"a" * 65536] * 100))
    assert answer.startswith(b"HTTP/1.1 413"), answer
    assert b'"payload_too_large"' in answer
    assert sent < 10 * 65536


@pytest.mark.parametrize("database", BACKENDS[:1], indirect=True)
def test_a_served_app_stops_reading_a_chunked_body_at_the_limit(served: ServedApp) -> None:
    head = (
        b"POST /api/customers HTTP/1.1\r\nHost: hotline\r\nContent-Type: application/json\r\n"
        b"Authorization: Bearer test-admin-token-0123456789abcdef\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
    )
    piece = b"a" * 65536
    chunk = f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    total = 20 * MAX_REQUEST_BODY // len(piece)
    answer, sent = _exchange(served.url, head, iter([chunk] * total))
    assert answer.startswith(b"HTTP/1.1 413"), answer
    assert b'"payload_too_large"' in answer
    assert sent < 4 * MAX_REQUEST_BODY


# Twilio's signature is over HOTLINE_PUBLIC_URL, whatever Host or X-Forwarded-* say.
SPOOFED_HEADERS = [
    {"Host": "evil.example.com"},
    {"X-Forwarded-Host": "evil.example.com", "X-Forwarded-Proto": "http"},
    {"Forwarded": "host=evil.example.com;proto=http", "X-Forwarded-Port": "8443"},
]


@pytest.mark.parametrize("spoofed", SPOOFED_HEADERS)
def test_host_headers_do_not_change_what_the_signature_covers(
    twilio: Twilio, spoofed: dict[str, str]
) -> None:
    path = "/twilio/voice/incoming"
    params = call_params("CA" + "d" * 32)
    evil = twilio.validator.compute_signature("http://evil.example.com" + path, params)
    for signature, status in [(evil, 403), (twilio.sign(path, params), 200)]:
        headers = {
            **spoofed,
            "X-Twilio-Signature": signature,
            "Content-Type": "application/x-www-form-urlencoded",
        }
        response = twilio.client.post(path, content=urlencode(params), headers=headers)
        assert response.status_code == status


def test_two_signatures_are_refused(twilio: Twilio) -> None:
    path = "/twilio/voice/incoming"
    params = call_params("CA" + "e" * 32)
    good = twilio.sign(path, params)
    headers = [
        ("x-twilio-signature", good),
        ("x-twilio-signature", "forged"),
        ("content-type", "application/x-www-form-urlencoded"),
    ]
    response = twilio.client.post(path, content=urlencode(params), headers=headers)
    assert response.status_code == 403


def test_a_huge_header_breaks_nothing(
    app_client: TestClient, admin_headers: dict[str, str]
) -> None:
    response = app_client.get("/api/tickets", headers={**admin_headers, "X-Padding": "a" * 200_000})
    assert response.status_code == 200


PATH_TRICKS = [
    ("/api/recordings/..%2F..%2Fetc%2Fpasswd", (404, 422)),
    ("/api/recordings/1%2F..%2F2", (404, 422)),
    ("/api/recordings/abc", (422,)),
    ("/api/recordings/-1", (404, 422)),
    ("/api/recordings/" + "9" * 40, (404, 422)),
    ("/api/recordings/" + "9" * 40 + "/audio", (404, 422)),
    ("/api/agents/" + "9" * 40, (404, 422)),
    ("/api/customers/" + "9" * 40, (404, 422)),
    ("/api/customers/1.5", (422,)),
    ("/api/escalations/" + "9" * 25, (404, 422)),
    ("/api/tickets/" + "T" * 5000, (404, 422)),
    ("/api/tickets/..%2F..%2Fagents", (404, 422)),
    ("/api/calls/" + "CA%00" + "a" * 30, (404, 422)),
    ("/api/calls/%2e%2e%2fagents", (404, 422)),
    ("/pages/..%2F..%2Fsettings.py", (404,)),
    ("/pages/%2e%2e/routes.py", (404,)),
]


@pytest.mark.parametrize(("path", "allowed"), PATH_TRICKS)
def test_path_tricks_are_a_4xx_in_the_error_shape(
    app_client: TestClient, admin_headers: dict[str, str], path: str, allowed: tuple[int, ...]
) -> None:
    response = app_client.get(path, headers=admin_headers)
    assert response.status_code in allowed, response.text
    assert response.json()["error"] in ("not_found", "validation_error")


@pytest.mark.parametrize("big", [2**31, 2**63, 10**30])
def test_ids_past_the_columns_in_a_body_are_a_4xx(
    app_client: TestClient, admin_headers: dict[str, str], big: int
) -> None:
    customer = app_client.post("/api/customers", json={"name": "李娜"}, headers=admin_headers)
    assert customer.status_code == 201
    for method, path, body in [
        ("POST", f"/api/customers/{customer.json()['id']}/merge", {"from": big}),
        ("POST", "/api/agents", {"name": "x", "skills": {}, "department_id": big}),
        ("GET", f"/api/tickets?assignee={big}", None),
    ]:
        response = app_client.request(method, path, json=body, headers=admin_headers)
        assert 400 <= response.status_code < 500, (path, response.text)
        assert response.json()["error"] in ("validation_error", "not_found", "conflict")


def test_api_answers_are_neither_sniffed_nor_stored(
    app_client: TestClient, admin_headers: dict[str, str]
) -> None:
    answers = [
        app_client.get("/api/agents", headers=admin_headers),  # customers' and agents' data
        app_client.get("/api/agents"),  # a 401 too
        app_client.post("/api/customers", content=b"{", headers=admin_headers),  # a 422
    ]
    for answer in answers:
        assert answer.headers["X-Content-Type-Options"] == "nosniff", answer.url
        assert answer.headers["Cache-Control"] == "no-store", answer.url
    assert [answer.status_code for answer in answers] == [200, 401, 422]
    # Twilio's webhooks and the pages keep their own headers.
    assert "no-store" not in app_client.get("/login").headers.get("Cache-Control", "")
