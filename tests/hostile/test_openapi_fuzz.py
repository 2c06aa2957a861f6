"""Schemathesis over the app's own OpenAPI document: every operation, as an admin and as
nobody, with generated valid and invalid input. No answer may be a 5xx, and every answer must
be one the document declares, with the body it declares."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import redis
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import Engine

from hotline.app import create_app
from hotline.auth import Role
from hotline.clock import FrozenClock
from hotline.settings import Environment, Settings
from tests.conftest import BACKENDS, PUBLIC_URL
from tests.routing.staff import add_staff

# The document does not depend on the database or Redis: build it once, at collection.
DOCUMENT = create_app(
    Settings(environment=Environment.test, demo_data=False, redis_url="redis://unused")
).openapi()
# A handful of generated inputs per operation and caller keeps the whole run near a minute on
# 2 cores; the coverage phase (hundreds of boundary cases per operation) would take ten.
# Seeded and deterministic, so CI explores the same inputs every time.
CONFIG = SchemathesisConfig.from_dict(
    {
        "seed": 20261124,
        "generation": {"mode": "all", "max-examples": 6, "deterministic": True, "database": "none"},
        "phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}},
    }
)
SCHEMA = schemathesis.openapi.from_dict(DOCUMENT, config=CONFIG)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]

pytestmark = pytest.mark.parametrize("database", BACKENDS[:1], indirect=True)


@pytest.fixture(params=["admin", "anonymous"])
def caller(request: pytest.FixtureRequest, engine: Engine, clock: FrozenClock) -> dict[str, str]:
    if request.param == "anonymous":
        return {}
    return dict(add_staff(engine, clock, name="Admin", role=Role.admin).headers)


@pytest.fixture
def client(
    settings: Settings, clock: FrozenClock, redis_client: redis.Redis
) -> Iterator[TestClient]:
    # The supervisors' event stream ends after a second instead of five minutes.
    short = settings.model_copy(update={"stats_stream_seconds": 1})
    with TestClient(create_app(short, clock=clock), base_url=PUBLIC_URL) as test_client:
        yield test_client


def send(client: TestClient, case: Any, headers: dict[str, str]) -> Any:
    """The generated request, sent through the app's test client (its lifespan is running)."""
    kwargs = case.as_transport_kwargs(base_url=PUBLIC_URL, headers=headers)
    data = kwargs.pop("data", None)
    if isinstance(data, str | bytes):
        kwargs["content"] = data
    elif data is not None:
        kwargs["data"] = data
    cookies = kwargs.pop("cookies", None) or {}
    if cookies:
        kwargs["headers"]["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    kwargs.pop("timeout", None)
    kwargs.pop("allow_redirects", None)
    return client.request(follow_redirects=False, **kwargs)


@SCHEMA.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_answers_as_documented(
    case: Any, client: TestClient, caller: dict[str, str]
) -> None:
    response = send(client, case, caller)
    case.validate_response(response, checks=CHECKS)
