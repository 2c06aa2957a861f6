"""Fault tests: the app reaches Redis through a proxy the test can cut (the server stays up)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from hotline.settings import Settings
from tests.conftest import REDIS_TEST_DB, REDIS_UP
from tests.faults.proxy import FaultProxy


@pytest.fixture
def redis_proxy() -> Iterator[FaultProxy]:
    if not REDIS_UP:
        # CI requires Redis on TCP (.ci/run), so there these tests always run.
        pytest.skip("fault tests cut a TCP Redis; only the embedded one is here")
    with FaultProxy("127.0.0.1", 6379) as proxy:
        yield proxy


@pytest.fixture
def settings(settings: Settings, redis_proxy: FaultProxy) -> Settings:
    url = f"redis://127.0.0.1:{redis_proxy.port}/{REDIS_TEST_DB}"
    return settings.model_copy(update={"redis_url": url})
