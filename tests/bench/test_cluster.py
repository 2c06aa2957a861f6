"""bench/cluster.py: a production-shaped cluster (uvicorn master + API worker, RQ worker with
its scheduler, its own redis-server, a PostgreSQL database) starts, answers signed webhooks
only, and stops leaving no process, database or file behind."""

from __future__ import annotations

import os
import shutil
import socket
import time
from urllib.parse import urlencode

import httpx
import pytest
import redis
from rq import Queue
from sqlalchemy import text
from twilio.request_validator import RequestValidator

from bench.cluster import Cluster, ClusterConfig
from hotline.db import make_engine
from tests.conftest import PG_ADMIN_URL, PG_TEST_DATABASE, POSTGRES_UP

REDIS_SERVER = shutil.which("redis-server")
if REDIS_SERVER is None and os.environ.get("HOTLINE_TEST_REQUIRE_REDIS"):
    raise RuntimeError("HOTLINE_TEST_REQUIRE_REDIS is set but redis-server is not installed")
pytestmark = [
    pytest.mark.skipif(REDIS_SERVER is None, reason="redis-server is not installed"),
    pytest.mark.skipif(not POSTGRES_UP, reason="the cluster runs on PostgreSQL"),
]
DATABASE = f"{PG_TEST_DATABASE}_cluster"


def database_exists(name: str) -> bool:
    engine = make_engine(PG_ADMIN_URL)
    try:
        with engine.connect() as connection:
            found = connection.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            )
            return found.first() is not None
    finally:
        engine.dispose()


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def incoming_call(cluster: Cluster, *, signed: bool) -> httpx.Response:
    path = "/twilio/voice/incoming"
    params = {
        "CallSid": "CA" + "5" * 32,
        "AccountSid": cluster.account.account_sid,
        "From": "+8613800000000",
        "To": cluster.number,
        "CallStatus": "ringing",
        "Direction": "inbound",
    }
    validator = RequestValidator(cluster.account.auth_token)
    signature = validator.compute_signature(cluster.config.public_url + path, params)
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if signed:
        headers["X-Twilio-Signature"] = signature
    return httpx.post(cluster.url + path, content=urlencode(params), headers=headers, timeout=10)


def test_one_api_and_one_worker_start_and_stop_cleanly() -> None:
    cluster = Cluster(
        ClusterConfig(
            api_workers=1,
            workers=1,
            database=DATABASE,
            env={"HOTLINE_BUSINESS_HOURS": "always", "HOTLINE_HOLIDAYS": ""},
        )
    )
    with cluster:
        assert database_exists(DATABASE)
        assert httpx.get(f"{cluster.url}/readyz", timeout=5).status_code == 200
        answered = incoming_call(cluster, signed=True)
        assert answered.status_code == 200
        assert "<Response>" in answered.text
        # Production settings: a request Twilio did not sign is refused.
        assert incoming_call(cluster, signed=False).status_code == 403
        assert set(cluster.backlog()) >= {"default", "notify", "running", "ended calls"}
        # RQ forks its scheduler just after the worker registers: give it a moment.
        expected = {"api worker 1", "rq worker 1", "rq worker 1 scheduler", "redis-server"}
        deadline = time.monotonic() + 10
        while True:
            cluster.memory.sample()
            peaks = {peak.label: peak.hwm_kib for peak in cluster.memory.peaks()}
            if expected <= set(peaks) or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        # One API worker: uvicorn serves in its own process, with no master.
        assert set(peaks) == expected
        assert all(kib > 1000 for kib in peaks.values()), peaks
        processes = list(cluster.named_processes().values())
    assert all(process.poll() is not None for process in processes)
    assert not port_open(cluster.api_port)
    assert not port_open(cluster.redis_port)
    assert not database_exists(DATABASE)
    assert not cluster.workdir.exists()


def test_jobs_no_worker_took_show_in_the_backlog_and_lag() -> None:
    with Cluster(ClusterConfig(api_workers=1, workers=0, database=DATABASE)) as cluster:
        assert cluster.queue_lag() == 0.0
        with redis.Redis.from_url(cluster.redis_url) as client:
            queue = Queue("default", connection=client)
            for _ in range(3):
                queue.enqueue("time.sleep", 0)
        time.sleep(1.0)
        assert cluster.backlog()["default"] == 3
        assert 1.0 <= cluster.queue_lag() < 30
