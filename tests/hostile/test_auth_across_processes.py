"""Sign-in limits and revocation hold across API processes (two apps on one database and one
Redis, as two uvicorn workers are), a forwarded address does not reset the per-address limit,
and no environment takes an unsigned webhook."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from hotline.app import create_app
from hotline.clock import FrozenClock
from hotline.settings import Environment, Settings
from tests.conftest import PUBLIC_URL, call_params
from tests.hotline.test_auth import LOGIN, _login
from tests.routing.staff import PASSWORD, Staff, add_staff


@pytest.fixture
def chen(engine: Engine, clock: FrozenClock) -> Staff:
    return add_staff(engine, clock, name="陈静", login=LOGIN, password=PASSWORD)


@pytest.fixture
def second_process(
    settings: Settings, clock: FrozenClock, redis_client: redis.Redis
) -> Iterator[TestClient]:
    with TestClient(create_app(settings, clock=clock), base_url=PUBLIC_URL) as client:
        yield client


def test_a_token_revoked_on_one_process_is_refused_by_the_other_at_once(
    app_client: TestClient, second_process: TestClient, chen: Staff
) -> None:
    token = _login(app_client)["token"]
    bearer = {"Authorization": f"Bearer {token}"}
    assert second_process.get("/api/agents/me", headers=bearer).status_code == 200
    assert app_client.post("/api/auth/logout", headers=bearer).status_code == 204
    refused = second_process.get("/api/agents/me", headers=bearer)
    assert refused.status_code == 401
    assert refused.json()["error"] == "unauthorized"


def test_failed_sign_ins_count_across_processes(
    app_client: TestClient, second_process: TestClient, chen: Staff
) -> None:
    for attempt in range(5):
        client = app_client if attempt % 2 else second_process
        assert _login(client, password="guess")["status"] == 401
    assert _login(app_client)["status"] == 429
    assert _login(second_process)["status"] == 429


def test_a_forged_forwarded_address_does_not_reset_the_address_limit(
    app_client: TestClient, chen: Staff
) -> None:
    # The app is not a proxy: only uvicorn, told to trust the proxy, reads X-Forwarded-For.
    for number in range(20):
        forged = {"X-Forwarded-For": f"203.0.113.{number}", "X-Real-IP": f"198.51.100.{number}"}
        response = app_client.post(
            "/api/auth/login",
            json={"login": f"guess{number}@bank.example", "password": "x"},
            headers=forged,
        )
        assert response.status_code == 401
    assert _login(app_client)["status"] == 429


@pytest.mark.parametrize("environment", list(Environment))
def test_no_environment_takes_an_unsigned_webhook(
    settings: Settings, clock: FrozenClock, redis_client: redis.Redis, environment: Environment
) -> None:
    changed = settings.model_copy(update={"environment": environment})
    with TestClient(create_app(changed, clock=clock), base_url=PUBLIC_URL) as client:
        response = client.post(
            "/twilio/voice/incoming",
            data=call_params("CA" + "f" * 32),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    assert response.status_code == 403
    assert response.json()["error"] == "forbidden"
