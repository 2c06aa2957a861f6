"""Passwords, sign-in, the login rate limit and bearer tokens."""

from __future__ import annotations

import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, select

from hotline import auth
from hotline.clock import FrozenClock
from routing.models import ApiToken
from tests.routing.staff import PASSWORD, Staff, add_staff

LOGIN = "chen.jing@bank.example"


@pytest.fixture
def chen(engine: Engine, clock: FrozenClock) -> Staff:
    return add_staff(engine, clock, name="陈静", login=LOGIN, password=PASSWORD)


def _login(client: TestClient, password: str = PASSWORD, login: str = LOGIN) -> dict[str, object]:
    response = client.post("/api/auth/login", json={"login": login, "password": password})
    return {"status": response.status_code, **response.json()}


def test_a_password_hash_round_trips_and_refuses_the_wrong_password() -> None:
    stored = auth.hash_password("pa55word-中文")
    assert stored.startswith(f"scrypt$n={auth.SCRYPT_N},r=8,p=1$")
    assert auth.verify_password("pa55word-中文", stored)
    assert not auth.verify_password("pa55word-中", stored)
    assert not auth.password_needs_rehash(stored)


def test_each_password_gets_its_own_salt() -> None:
    assert auth.hash_password("same") != auth.hash_password("same")


@pytest.mark.parametrize("stored", ["", "plain", "md5$x$y$z", "scrypt$n=x$a$b", "scrypt$n=2$$"])
def test_a_malformed_hash_never_matches(stored: str) -> None:
    assert not auth.verify_password("anything", stored)


def test_older_parameters_still_verify_and_ask_for_a_rehash(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(auth, "SCRYPT_N", 2**10)
    weak = auth.hash_password("secret words")
    monkeypatch.undo()
    assert auth.verify_password("secret words", weak)
    assert auth.password_needs_rehash(weak)


def test_tokens_are_random_and_stored_only_as_a_digest() -> None:
    token = auth.new_token()
    assert len(token) >= 43 and token != auth.new_token()
    assert len(auth.token_digest(token)) == 64 and token not in auth.token_digest(token)


def test_sign_in_gives_a_token_that_works(app_client: TestClient, chen: Staff) -> None:
    result = _login(app_client)
    assert result["status"] == 200
    agent = result["agent"]
    assert isinstance(agent, dict) and agent["id"] == chen.agent_id
    headers = {"Authorization": f"Bearer {result['token']}"}
    me = app_client.get("/api/agents/me", headers=headers)
    assert me.status_code == 200 and me.json()["login"] == LOGIN


@pytest.mark.parametrize(
    ("login", "password"), [(LOGIN, "wrong password"), ("nobody@bank.example", PASSWORD)]
)
def test_a_wrong_login_or_password_is_401_without_saying_which(
    app_client: TestClient, chen: Staff, login: str, password: str
) -> None:
    result = _login(app_client, password=password, login=login)
    assert result == {"status": 401, "error": "unauthorized", "detail": "wrong login or password"}


def test_an_agent_without_a_password_cannot_sign_in(
    app_client: TestClient, engine: Engine, clock: FrozenClock
) -> None:
    add_staff(engine, clock, name="no password")
    assert _login(app_client, login="no password")["status"] in (401, 422)


def test_five_failures_lock_the_login_for_the_window(
    app_client: TestClient, chen: Staff, redis_client: redis.Redis
) -> None:
    for _ in range(5):
        assert _login(app_client, password="guess")["status"] == 401
    locked = _login(app_client)
    assert locked["status"] == 429 and locked["error"] == "too_many_requests"
    assert 0 < redis_client.ttl(f"login-failures:login:{LOGIN}") <= 15 * 60
    # The window passes (Redis expires the counter): the right password works again.
    redis_client.delete(f"login-failures:login:{LOGIN}")
    assert _login(app_client)["status"] == 200


def test_one_address_cannot_sweep_many_logins(app_client: TestClient, chen: Staff) -> None:
    for number in range(20):
        assert _login(app_client, login=f"guess{number}@bank.example")["status"] == 401
    assert _login(app_client)["status"] == 429


def test_a_success_clears_the_logins_failures(
    app_client: TestClient, chen: Staff, redis_client: redis.Redis
) -> None:
    for _ in range(4):
        _login(app_client, password="guess")
    assert _login(app_client)["status"] == 200
    assert redis_client.get(f"login-failures:login:{LOGIN}") is None


def test_logout_revokes_the_token(app_client: TestClient, chen: Staff) -> None:
    headers = {"Authorization": f"Bearer {_login(app_client)['token']}"}
    assert app_client.post("/api/auth/logout", headers=headers).status_code == 204
    response = app_client.get("/api/agents/me", headers=headers)
    assert response.status_code == 401
    assert response.json() == {
        "error": "unauthorized",
        "detail": "the token is unknown, expired or revoked",
    }
    # Other sessions of the same agent are untouched.
    assert app_client.get("/api/agents/me", headers=chen.headers).status_code == 200


def test_a_sign_in_expires_after_the_session_hours(
    app_client: TestClient, chen: Staff, clock: FrozenClock
) -> None:
    headers = {"Authorization": f"Bearer {_login(app_client)['token']}"}
    clock.advance(12 * 3600 - 1)
    assert app_client.get("/api/agents/me", headers=headers).status_code == 200
    clock.advance(1)
    assert app_client.get("/api/agents/me", headers=headers).status_code == 401


def test_a_named_token_is_shown_once_and_revocable(
    app_client: TestClient, chen: Staff, clock: FrozenClock
) -> None:
    created = app_client.post(
        "/api/auth/tokens", json={"name": "crm-sync", "expires_in_days": 7}, headers=chen.headers
    )
    assert created.status_code == 201
    issued = created.json()
    bearer = {"Authorization": f"Bearer {issued['token']}"}
    assert app_client.get("/api/agents/me", headers=bearer).status_code == 200

    listed = app_client.get("/api/auth/tokens", headers=chen.headers).json()
    assert "crm-sync" in [token["name"] for token in listed]
    assert all("token" not in token and "token_hash" not in token for token in listed)

    revoked = app_client.delete(f"/api/auth/tokens/{issued['id']}", headers=chen.headers)
    assert revoked.status_code == 204
    assert app_client.get("/api/agents/me", headers=bearer).status_code == 401


def test_a_named_token_expires(app_client: TestClient, chen: Staff, clock: FrozenClock) -> None:
    issued = app_client.post(
        "/api/auth/tokens", json={"name": "short", "expires_in_days": 1}, headers=chen.headers
    ).json()
    clock.advance(86400)
    bearer = {"Authorization": f"Bearer {issued['token']}"}
    assert app_client.get("/api/agents/me", headers=bearer).status_code == 401


def test_token_use_is_recorded_to_the_minute(
    app_client: TestClient, chen: Staff, clock: FrozenClock, engine: Engine
) -> None:
    def last_used() -> object:
        with Session(engine) as session:
            query = select(ApiToken).where(ApiToken.agent_id == chen.agent_id)
            return session.exec(query).one().last_used_at

    app_client.get("/api/agents/me", headers=chen.headers)
    first = last_used()
    assert first == clock.now()
    clock.advance(30)
    app_client.get("/api/agents/me", headers=chen.headers)
    assert last_used() == first
    clock.advance(30)
    app_client.get("/api/agents/me", headers=chen.headers)
    assert last_used() == clock.now()


@pytest.mark.parametrize("body", [{}, {"name": ""}, {"name": "x", "expires_in_days": 400}])
def test_a_bad_token_request_is_422(
    app_client: TestClient, chen: Staff, body: dict[str, object]
) -> None:
    response = app_client.post("/api/auth/tokens", json=body, headers=chen.headers)
    assert response.status_code == 422 and response.json()["error"] == "validation_error"


def test_unknown_tokens_are_404(app_client: TestClient, admin_headers: dict[str, str]) -> None:
    response = app_client.delete("/api/auth/tokens/999", headers=admin_headers)
    assert response.json() == {"error": "not_found", "detail": "no token 999"}


def test_the_bootstrap_admin_token_is_the_admin_without_an_agent() -> None:
    assert auth.BOOTSTRAP_ADMIN.is_admin and auth.BOOTSTRAP_ADMIN.agent_id is None
    assert auth.BOOTSTRAP_ADMIN.actor == "admin-token"


def test_a_non_bearer_scheme_is_401(app_client: TestClient, admin_headers: dict[str, str]) -> None:
    token = admin_headers["Authorization"].split()[1]
    response = app_client.get("/api/agents", headers={"Authorization": f"Basic {token}"})
    assert response.status_code == 401
