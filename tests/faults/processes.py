"""Real worker processes for the fault tests: started with the test's settings, stopped or
killed by their own process id (and their process group: RQ's scheduler is a child)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from hotline.settings import Settings
from tests.conftest import PUBLIC_URL, TEST_ACCOUNT, TEST_TOKEN

RQ = Path(sys.executable).with_name("rq")


def worker_env(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment a worker process reads the test's settings from (plus `extra`)."""
    env = {
        **os.environ,
        "HOTLINE_ENVIRONMENT": "test",
        "HOTLINE_DATABASE_URL": settings.database_url,
        "HOTLINE_REDIS_URL": settings.redis_url or "",
        "HOTLINE_PUBLIC_URL": PUBLIC_URL,
        "TWILIO_ACCOUNT_SID": TEST_ACCOUNT,
        "TWILIO_AUTH_TOKEN": TEST_TOKEN,
        "HOTLINE_TWILIO_OUTBOX": "true",
        "HOTLINE_BUSINESS_HOURS": "always",
        "HOTLINE_WRAPUP_SECONDS": "0",
        "HOTLINE_LOG_LEVEL": "WARNING",
    }
    env.update(extra)
    return env


def start_worker(
    settings: Settings,
    log_path: Path,
    *,
    command: list[str] | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    """`hotline worker` (or `command`) in a process group of its own, logging to `log_path`."""
    return subprocess.Popen(
        command or [sys.executable, "-m", "hotline.cli", "worker"],
        env=env or worker_env(settings),
        stdout=log_path.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def rq_worker(redis_url: str, *queues: str) -> list[str]:
    """RQ's own CLI: `rq worker --with-scheduler` on `queues`, running jobs in its own process
    as `hotline worker` does (a forking worker's job would outlive a kill of its parent)."""
    return [
        str(RQ), "worker", "--with-scheduler", "--worker-class", "rq.worker.SimpleWorker",
        "--url", redis_url, *queues,
    ]  # fmt: skip


def kill(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL the worker process itself, mid-job: no clean-up of any kind runs."""
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop the worker and whatever it left in its group (a killed worker's scheduler lives on
    as an orphan until this)."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


def start_api(port: int, log_path: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """`hotline api` (uvicorn, one process) on `port`."""
    command = [sys.executable, "-m", "hotline.cli", "api", "--port", str(port)]
    return subprocess.Popen(
        command, env=env, stdout=log_path.open("ab"), stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip


def wait_ready(port: int, log_path: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"the API on {port} did not start\n{log_path.read_text()[-2000:]}")
