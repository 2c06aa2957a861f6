"""`redis+sentinel://` URLs: the app finds the primary through real Redis Sentinel processes."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from hotline.redis import SentinelTarget, async_client, sync_client
from simulator.hosting import free_port

REDIS_SERVER = shutil.which("redis-server")
if REDIS_SERVER is None and os.environ.get("HOTLINE_TEST_REQUIRE_REDIS"):
    raise RuntimeError("HOTLINE_TEST_REQUIRE_REDIS is set but redis-server is not installed")
pytestmark = pytest.mark.skipif(REDIS_SERVER is None, reason="redis-server is not installed")


def _start(args: list[str], port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen([str(REDIS_SERVER), *args], stdout=subprocess.DEVNULL)
    client = redis.Redis(port=port, socket_connect_timeout=0.2)
    for _ in range(100):
        try:
            client.ping()
            return process
        except redis.ConnectionError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"redis on port {port} did not start")


@pytest.fixture(scope="module")
def sentinel_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A private primary (not the shared test Redis) watched by one sentinel."""
    directory = Path(tmp_path_factory.mktemp("sentinel"))
    primary_port, sentinel_port = free_port(), free_port()
    primary = _start(
        ["--port", str(primary_port), "--save", "", "--appendonly", "no", "--dir", str(directory)],
        primary_port,
    )
    config = directory / "sentinel.conf"
    config.write_text(
        f"port {sentinel_port}\nbind 127.0.0.1\ndir {directory}\n"
        f"sentinel monitor hotline 127.0.0.1 {primary_port} 1\n"
    )
    sentinel = _start([str(config), "--sentinel"], sentinel_port)
    try:
        yield f"redis+sentinel://127.0.0.1:{sentinel_port}/hotline/3"
    finally:
        for process in (sentinel, primary):
            process.terminate()
            process.wait(timeout=10)


def test_a_sentinel_url_names_hosts_service_database_and_password() -> None:
    target = SentinelTarget.parse("redis+sentinel://:s%40cret@s1:26380,s2/hotline/2")
    assert target.sentinels == [("s1", 26380), ("s2", 26379)]
    assert (target.service, target.db, target.password) == ("hotline", 2, "s@cret")


def test_a_sentinel_url_without_a_service_is_refused() -> None:
    with pytest.raises(ValueError, match="names the service"):
        SentinelTarget.parse("redis+sentinel://s1:26379")


def test_the_sync_client_writes_to_the_primary_the_sentinel_names(sentinel_url: str) -> None:
    client = sync_client(sentinel_url)
    client.set("sentinel-probe", "1")
    primary_port = int(client.connection_pool.get_master_address()[1])  # type: ignore[attr-defined]
    direct = redis.Redis(port=primary_port, db=3)
    assert direct.get("sentinel-probe") == b"1"
    direct.delete("sentinel-probe")


@pytest.mark.anyio
async def test_the_async_client_reaches_the_same_primary(sentinel_url: str) -> None:
    client = async_client(sentinel_url)
    await client.set("sentinel-async", "yes")
    assert await client.get("sentinel-async") == "yes"
    await client.delete("sentinel-async")
    await client.aclose()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
