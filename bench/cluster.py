"""A production-shaped Hotline on this machine, for benches: its own redis-server (append-only,
as docker-compose runs it), a PostgreSQL database created for the run, migrations once, then
`hotline api --workers N` (one uvicorn master and N worker processes, as the Dockerfile runs
it) and M `hotline worker` processes (RQ with the scheduler), all configured through the
environment as docker-compose.yml does: production mode, webhook signatures checked, fresh
secrets per run.

    cluster = Cluster(ClusterConfig(twilio_api_base=emulator_url))
    with cluster:                       # start(): ready when /readyz answers and workers beat
        cluster.url, cluster.account    # where to send webhooks, how to sign them
        cluster.backlog()               # jobs and ended calls not yet processed
        cluster.queue_lag()             # how long the oldest queued job has waited
        cluster.memory.peaks()          # VmHWM of every process seen so far
    # stop(): processes ended, database dropped, files removed

Twilio REST goes to `twilio_api_base` (the emulator); without one the app keeps REST requests
in its outbox table, so nothing ever reaches the real Twilio.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

import httpx
import redis
from rq import Queue, Worker
from rq.job import Job
from sqlalchemy import create_engine, text

from bench.proc_memory import MemoryWatch
from hotline.settings import Settings
from simulator.harness import Account
from simulator.hosting import free_port

READY_TIMEOUT_SECONDS = 90.0
STOP_TIMEOUT_SECONDS = 30.0
PG_SERVER_URL = "postgresql://postgres@127.0.0.1:5432"
# The lists the cluster's backlog reads; kept here rather than imported so that importing this
# module loads no app code (ivr.session: call logs waiting to be written to the database).
QUEUES = ("notify", "callbacks", "recordings", "default")
ENDED_CALLS = "ivr:ended"


class ClusterError(Exception):
    """The cluster did not start; the message carries the end of the failing process's log."""


@dataclass(frozen=True)
class ClusterConfig:
    api_workers: int = 4
    workers: int = 2
    # A plain name: dropped and created at start, dropped at stop.
    database: str = "hotline_loadbench"
    pg_server_url: str = PG_SERVER_URL
    # The base URL Twilio signs with; requests still go to `Cluster.url` (a proxy's job).
    public_url: str = "https://hotline.bench.invalid"
    twilio_api_base: str | None = None
    # Any other HOTLINE_* settings, e.g. {"HOTLINE_BUSINESS_HOURS": "always"}.
    env: Mapping[str, str] = field(default_factory=dict)
    # RQ forks a work horse per job with --fork; the default runs jobs in the worker.
    fork: bool = False
    keep_files: bool = False


@dataclass(frozen=True)
class Secrets:
    """Fresh per run; the placeholders would make production start-up refuse."""

    auth_token: str = field(default_factory=lambda: secrets.token_hex(16))
    account_sid: str = field(default_factory=lambda: "AC" + secrets.token_hex(16))
    admin_token: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    metrics_token: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    api_key_sid: str = field(default_factory=lambda: "SK" + secrets.token_hex(16))
    api_key_secret: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    twiml_app_sid: str = field(default_factory=lambda: "AP" + secrets.token_hex(16))


class Cluster:
    """`url`, `redis_url`, `database_url` and `account` are known at once; `start()` runs it."""

    def __init__(self, config: ClusterConfig | None = None) -> None:
        self.config = config or ClusterConfig()
        if not self.config.database.replace("_", "").isalnum():
            raise ValueError(f"database {self.config.database!r} is not a plain name")
        self.secrets = Secrets()
        self.number = str(Settings.model_fields["twilio_phone_number"].default)
        self.account = Account(
            self.secrets.auth_token, self.secrets.account_sid, self.secrets.admin_token, self.number
        )
        self.workdir = Path(tempfile.mkdtemp(prefix="hotline-cluster-"))
        self.api_port = free_port()
        self.redis_port = free_port()
        self.url = f"http://127.0.0.1:{self.api_port}"
        self.redis_url = f"redis://127.0.0.1:{self.redis_port}/0"
        self.database_url = f"{self.config.pg_server_url}/{self.config.database}"
        self.redis_server: subprocess.Popen[bytes] | None = None
        self.api: subprocess.Popen[bytes] | None = None
        self.workers: list[subprocess.Popen[bytes]] = []
        self.memory = MemoryWatch(self._name_child)
        self._api_workers_seen = 0
        self._database_created = False
        self._logs: list[IO[bytes]] = []

    def env(self) -> dict[str, str]:
        """The processes' environment: this one's minus any Hotline or Twilio settings."""
        base = {
            name: value
            for name, value in os.environ.items()
            if not name.startswith(("HOTLINE_", "TWILIO_"))
        }
        s = self.secrets
        env = {
            **base,
            "HOTLINE_ENVIRONMENT": "production",
            "HOTLINE_DATABASE_URL": self.database_url,
            "HOTLINE_REDIS_URL": self.redis_url,
            "HOTLINE_PUBLIC_URL": self.config.public_url,
            "HOTLINE_ADMIN_TOKEN": s.admin_token,
            "HOTLINE_METRICS_TOKEN": s.metrics_token,
            "HOTLINE_RECORDINGS_DIR": str(self.workdir / "recordings"),
            "HOTLINE_LOG_LEVEL": "WARNING",
            "TWILIO_ACCOUNT_SID": s.account_sid,
            "TWILIO_AUTH_TOKEN": s.auth_token,
            "TWILIO_API_KEY_SID": s.api_key_sid,
            "TWILIO_API_KEY_SECRET": s.api_key_secret,
            "TWILIO_TWIML_APP_SID": s.twiml_app_sid,
        }
        if self.config.twilio_api_base is not None:
            env["HOTLINE_TWILIO_API_BASE"] = self.config.twilio_api_base
        else:
            env["HOTLINE_TWILIO_OUTBOX"] = "true"
        return {**env, **self.config.env}

    def start(self) -> Cluster:
        try:
            self._start_redis()
            self._create_database()
            migrating = self._hotline("migrate", [], "migrate")
            if migrating.wait(timeout=READY_TIMEOUT_SECONDS) != 0:
                raise ClusterError(f"`hotline migrate` failed:\n{self.log_tail('migrate')}")
            self.api = self._hotline(
                "api",
                ["--host", "127.0.0.1", "--port", str(self.api_port)]
                + ["--workers", str(self.config.api_workers)],
                "api",
            )
            worker_args = ["--fork"] if self.config.fork else []
            self.workers = [
                self._hotline("worker", worker_args, f"worker{n + 1}")
                for n in range(self.config.workers)
            ]
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        for pid, label in self.labelled_roots().items():
            self.memory.watch(pid, label)
        self.memory.start()
        return self

    def _start_redis(self) -> None:
        data = self.workdir / "redis"
        data.mkdir()
        self.redis_server = subprocess.Popen(
            ["redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1"]
            + ["--dir", str(data), "--appendonly", "yes", "--appendfsync", "everysec"]
            + ["--save", ""],
            stdout=self._log("redis"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while not self._redis_answers():
            if self.redis_server.poll() is not None or time.monotonic() > deadline:
                raise ClusterError(f"redis-server did not start:\n{self.log_tail('redis')}")
            time.sleep(0.05)

    def _redis_answers(self) -> bool:
        try:
            with redis.Redis.from_url(self.redis_url, socket_timeout=1) as client:
                return bool(client.ping())
        except redis.RedisError:
            return False

    def _admin(self, statement: str) -> None:
        engine = create_engine(
            f"{self.config.pg_server_url}/postgres".replace(
                "postgresql://", "postgresql+psycopg://", 1
            ),
            isolation_level="AUTOCOMMIT",
        )
        try:
            with engine.connect() as connection:
                connection.execute(text(statement))
        finally:
            engine.dispose()

    def _create_database(self) -> None:
        self._admin(f"DROP DATABASE IF EXISTS {self.config.database} WITH (FORCE)")
        self._admin(f"CREATE DATABASE {self.config.database}")
        self._database_created = True

    def _hotline(self, command: str, args: list[str], name: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [sys.executable, "-m", "hotline.cli", command, *args],
            env=self.env(),
            # No `.env` in the working directory can override the settings above.
            cwd=self.workdir,
            stdout=self._log(name),
            stderr=subprocess.STDOUT,
        )

    def _log(self, name: str) -> IO[bytes]:
        log = (self.workdir / f"{name}.log").open("wb")
        self._logs.append(log)
        return log

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while True:
            for name, process in self.named_processes().items():
                if process.poll() is not None:
                    raise ClusterError(f"{name} exited at start-up:\n{self.log_tail(name)}")
            if self._api_ready() and self._workers_registered() >= self.config.workers:
                return
            if time.monotonic() > deadline:
                raise ClusterError(f"not ready in time:\n{self.log_tail('api')}")
            time.sleep(0.2)

    def _api_ready(self) -> bool:
        try:
            return httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def _workers_registered(self) -> int:
        with redis.Redis.from_url(self.redis_url) as client:
            return len(Worker.all(connection=client))

    def named_processes(self) -> dict[str, subprocess.Popen[bytes]]:
        named: dict[str, subprocess.Popen[bytes]] = {}
        if self.api is not None:
            named["api"] = self.api
        for n, worker in enumerate(self.workers):
            named[f"worker{n + 1}"] = worker
        return named

    def labelled_roots(self) -> dict[int, str]:
        """The long-running processes started here, by pid."""
        roots: dict[int, str] = {}
        if self.api is not None:
            # With one worker uvicorn serves in the process itself, without a master.
            single = self.config.api_workers == 1
            roots[self.api.pid] = "api worker 1" if single else "api master"
        for n, worker in enumerate(self.workers):
            roots[worker.pid] = f"rq worker {n + 1}"
        if self.redis_server is not None:
            roots[self.redis_server.pid] = "redis-server"
        return roots

    def _name_child(self, root: str, command: str, number: int) -> str | None:
        if root == "api master":
            # uvicorn --workers spawns its workers, and multiprocessing its resource tracker.
            if "resource_tracker" in command:
                return "api resource tracker"
            self._api_workers_seen += 1
            return f"api worker {self._api_workers_seen}"
        if root.startswith("rq worker") and not self.config.fork:
            # A SimpleWorker runs jobs itself: its only child is the scheduler RQ forks.
            return f"{root} scheduler" if number == 1 else None
        return None

    def backlog(self) -> dict[str, int]:
        """Work handed to the workers and not yet done: queued jobs per queue, jobs running,
        and ended calls whose logs are not yet written."""
        with redis.Redis.from_url(self.redis_url) as client:
            waiting = {name: Queue(name, connection=client).count for name in QUEUES}
            running = sum(
                Queue(name, connection=client).started_job_registry.count for name in QUEUES
            )
            return {**waiting, "running": running, "ended calls": int(client.llen(ENDED_CALLS))}

    def queue_lag(self) -> float:
        """Seconds the oldest queued job has waited for a worker (0 when none waits): how far
        the workers are behind."""
        now = datetime.now(UTC)
        oldest = 0.0
        with redis.Redis.from_url(self.redis_url) as client:
            heads = [Queue(name, connection=client).get_job_ids(0, 1) for name in QUEUES]
            # A job taken meanwhile is gone: None.
            for job in Job.fetch_many([ids[0] for ids in heads if ids], connection=client):
                if job is not None and job.enqueued_at is not None:
                    at = job.enqueued_at
                    at = at if at.tzinfo else at.replace(tzinfo=UTC)
                    oldest = max(oldest, (now - at).total_seconds())
        return oldest

    def log_tail(self, name: str, lines: int = 30) -> str:
        try:
            content = (self.workdir / f"{name}.log").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(content.splitlines()[-lines:])

    def stop(self) -> None:
        """Everything ended and removed; safe to call twice or after a failed start."""
        self.memory.stop()
        # Workers and API first (a warm shutdown finishes the job at hand), Redis once they
        # are gone: the workers' schedulers still talk to it on their way out.
        _terminate([*self.workers, self.api])
        _terminate([self.redis_server])
        self.workers, self.api, self.redis_server = [], None, None
        for log in self._logs:
            log.close()
        self._logs = []
        try:
            if self._database_created:
                self._admin(f"DROP DATABASE IF EXISTS {self.config.database} WITH (FORCE)")
                self._database_created = False
        finally:
            if not self.config.keep_files:
                shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> Cluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _terminate(processes: list[subprocess.Popen[bytes] | None]) -> None:
    """SIGTERM to every live one, then wait for each (killed past the timeout)."""
    live = [process for process in processes if process is not None]
    for process in live:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in live:
        try:
            process.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
