"""The Hotline as separate processes for a simulation: its own redis-server, a PostgreSQL
database made for the run, `hotline api --workers N` (one port, N uvicorn processes) and M
`hotline worker`s, all on the simulated clock that the emulator publishes in Redis.

Development mode with the placeholder credentials: the simulated clock is refused in
production, and the emulator signs with the same placeholder token the app checks.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import redis
from rq import Worker
from sqlalchemy import create_engine, text

from bench.proc_memory import cpu_seconds, parents
from simulator.hosting import free_port

READY_TIMEOUT_SECONDS = 120.0
STOP_TIMEOUT_SECONDS = 30.0
PG_SERVER_URL = "postgresql://postgres@127.0.0.1:5432"
SIM_CLOCK_KEY = "sim:clock"


class ClusterError(Exception):
    """A process did not start; the message carries the end of its log."""


@dataclass(frozen=True)
class SimClusterConfig:
    twilio_api_base: str
    api_processes: int = 3
    workers: int = 1
    # One database per run, so two runs on one machine never drop each other's.
    database: str = field(default_factory=lambda: f"hotline_simhour_{os.getpid()}")
    env: Mapping[str, str] = field(default_factory=dict)


class SimCluster:
    """`url` and `redis_url` are known at once; `start()` runs it, `stop()` removes it all."""

    def __init__(self, config: SimClusterConfig) -> None:
        if not config.database.replace("_", "").isalnum():
            raise ValueError(f"database {config.database!r} is not a plain name")
        self.config = config
        self.workdir = Path(tempfile.mkdtemp(prefix="hotline-simhour-"))
        self.api_port = free_port()
        self.redis_port = free_port()
        self.url = f"http://127.0.0.1:{self.api_port}"
        self.redis_url = f"redis://127.0.0.1:{self.redis_port}/0"
        self.database_url = f"{PG_SERVER_URL}/{config.database}"
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    def env(self) -> dict[str, str]:
        base = {k: v for k, v in os.environ.items() if not k.startswith(("HOTLINE_", "TWILIO_"))}
        return {
            **base,
            "HOTLINE_ENVIRONMENT": "development",
            "HOTLINE_DATABASE_URL": self.database_url,
            "HOTLINE_REDIS_URL": self.redis_url,
            "HOTLINE_PUBLIC_URL": self.url,
            "HOTLINE_TWILIO_API_BASE": self.config.twilio_api_base,
            "HOTLINE_SIM_CLOCK_KEY": SIM_CLOCK_KEY,
            "HOTLINE_BUSINESS_HOURS": "always",
            "HOTLINE_HOLIDAYS": "",
            "HOTLINE_DEMO_DATA": "false",
            "HOTLINE_RECORDINGS_DIR": str(self.workdir / "recordings"),
            "HOTLINE_LOG_LEVEL": "WARNING",
            **self.config.env,
        }

    def start_redis(self) -> redis.Redis:
        """Redis first: the clock's anchor must be there before the app starts."""
        self.processes["redis"] = subprocess.Popen(
            ["redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1"]
            + ["--save", "", "--appendonly", "no", "--dir", str(self.workdir)],
            stdout=(self.workdir / "redis.log").open("wb"),
            stderr=subprocess.STDOUT,
        )
        client = redis.Redis.from_url(self.redis_url)
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while True:
            try:
                client.ping()
                return client
            except redis.RedisError as exc:
                if time.monotonic() > deadline or self.processes["redis"].poll() is not None:
                    tail = self.log_tail("redis")
                    raise ClusterError(f"redis-server did not start:\n{tail}") from exc
                time.sleep(0.05)

    def start_app(self) -> None:
        self._admin(f"DROP DATABASE IF EXISTS {self.config.database} WITH (FORCE)")
        self._admin(f"CREATE DATABASE {self.config.database}")
        if self._hotline("migrate", [], "migrate").wait(timeout=READY_TIMEOUT_SECONDS) != 0:
            raise ClusterError(f"`hotline migrate` failed:\n{self.log_tail('migrate')}")
        self.processes["api"] = self._hotline(
            "api",
            ["--port", str(self.api_port), "--workers", str(self.config.api_processes)],
            "api",
        )
        for n in range(self.config.workers):
            self.processes[f"worker{n + 1}"] = self._hotline("worker", [], f"worker{n + 1}")
        self._wait_ready()

    def _hotline(self, command: str, args: list[str], name: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [sys.executable, "-m", "hotline.cli", command, *args],
            env=self.env(),
            cwd=self.workdir,  # no `.env` here can override the settings above
            stdout=(self.workdir / f"{name}.log").open("wb"),
            stderr=subprocess.STDOUT,
        )

    def _admin(self, statement: str) -> None:
        url = f"{PG_SERVER_URL}/postgres".replace("postgresql://", "postgresql+psycopg://", 1)
        engine = create_engine(url, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as connection:
                connection.execute(text(statement))
        finally:
            engine.dispose()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        client = redis.Redis.from_url(self.redis_url)
        while True:
            for name, process in self.processes.items():
                if process.poll() is not None:
                    raise ClusterError(f"{name} exited at start-up:\n{self.log_tail(name)}")
            try:
                api_ready = httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200
            except httpx.HTTPError:
                api_ready = False
            if api_ready and len(Worker.all(connection=client)) >= self.config.workers:
                return
            if time.monotonic() > deadline:
                raise ClusterError(f"not ready in time:\n{self.log_tail('api')}")
            time.sleep(0.2)

    def cpu_seconds(self) -> dict[str, float]:
        """CPU time so far of each role: redis, the API processes, the workers (each with
        its children: uvicorn's workers, RQ's scheduler)."""
        parent_of = parents()
        roles: dict[str, float] = {}
        for name, process in self.processes.items():
            role = "workers" if name.startswith("worker") else name
            family = _descendants(process.pid, parent_of) | {process.pid}
            roles[role] = roles.get(role, 0.0) + sum(cpu_seconds(pid) or 0.0 for pid in family)
        return roles

    def log_tail(self, name: str, lines: int = 30) -> str:
        try:
            content = (self.workdir / f"{name}.log").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(content.splitlines()[-lines:])

    def stop(self) -> None:
        """Workers, then the API, then Redis; the database dropped, the files removed."""
        ordered = sorted(self.processes.items(), key=lambda item: item[0] == "redis")
        for _, process in ordered:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=STOP_TIMEOUT_SECONDS)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=10)
        self.processes.clear()
        try:
            self._admin(f"DROP DATABASE IF EXISTS {self.config.database} WITH (FORCE)")
        finally:
            shutil.rmtree(self.workdir, ignore_errors=True)


def _descendants(pid: int, parent_of: dict[int, int]) -> set[int]:
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parent_of.items() if parent in frontier}
        found |= frontier
    return found
