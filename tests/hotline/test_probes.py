"""`hotline check api|worker`: the probes the containers' health checks run."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import redis
import uvicorn
from rq import SimpleWorker

from hotline.app import create_app
from hotline.probes import WORKER_STALE_AFTER, WORKER_TTL_SECONDS, check_api, check_worker
from hotline.settings import Settings
from simulator.hosting import free_port


@pytest.fixture
def served(settings: Settings) -> Iterator[str]:
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = datetime.now(UTC) + timedelta(seconds=10)
    while not server.started and datetime.now(UTC) < deadline:
        threading.Event().wait(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def test_api_is_healthy_when_ready(served: str) -> None:
    healthy, detail = check_api(served)
    assert healthy, detail
    assert '"database":"ok"' in detail.replace(" ", "")


def test_api_is_unhealthy_when_nothing_answers() -> None:
    healthy, detail = check_api(f"http://127.0.0.1:{free_port()}", timeout=0.5)
    assert not healthy
    assert "unreachable" in detail


def _register(client: redis.Redis, name: str) -> SimpleWorker:
    worker = SimpleWorker(["default"], connection=client, name=name, worker_ttl=WORKER_TTL_SECONDS)
    worker.register_birth()
    worker.heartbeat()
    return worker


def test_a_worker_on_this_host_with_a_recent_heartbeat_is_healthy(
    settings: Settings, redis_client: redis.Redis
) -> None:
    worker = _register(redis_client, "probe-1")
    try:
        healthy, detail = check_worker(settings)
        assert healthy, detail
    finally:
        worker.register_death()


def test_a_worker_silent_past_its_ttl_is_unhealthy(
    settings: Settings, redis_client: redis.Redis
) -> None:
    worker = _register(redis_client, "probe-2")
    try:
        later = datetime.now(UTC) + WORKER_STALE_AFTER + timedelta(seconds=5)
        healthy, detail = check_worker(settings, now=later)
        assert not healthy
        assert "heartbeat" in detail
    finally:
        worker.register_death()


def test_workers_on_other_hosts_do_not_count(settings: Settings, redis_client: redis.Redis) -> None:
    worker = _register(redis_client, "probe-3")
    try:
        healthy, detail = check_worker(settings, hostname=f"not-{socket.gethostname()}")
        assert not healthy
        assert "no worker" in detail
    finally:
        worker.register_death()


def test_an_unreachable_redis_is_unhealthy(settings: Settings) -> None:
    unreachable = settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{free_port()}/0"})
    healthy, detail = check_worker(unreachable)
    assert not healthy
    assert "redis unreachable" in detail
