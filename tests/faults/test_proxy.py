"""The fault proxy itself: through when up, refused and broken when cut."""

from __future__ import annotations

import pytest
import redis

from tests.conftest import REDIS_TEST_DB, REDIS_UP
from tests.faults.proxy import FaultProxy

pytestmark = pytest.mark.skipif(not REDIS_UP, reason="needs the Redis server on 6379")


def test_connections_pass_when_up_and_fail_when_cut() -> None:
    with FaultProxy("127.0.0.1", 6379) as proxy:
        client = redis.Redis(port=proxy.port, db=REDIS_TEST_DB, socket_timeout=1)
        assert client.ping()
        proxy.cut()
        with pytest.raises(redis.ConnectionError):
            client.ping()
        proxy.restore()
        assert client.ping()
