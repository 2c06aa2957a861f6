"""A throwaway Hotline for a simulation: `hotline serve` in a subprocess on a free port, with a
temporary SQLite file, an embedded Redis, always open, and its Twilio REST calls sent to the
emulator."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

READY_TIMEOUT_SECONDS = 60.0


class HostingError(Exception):
    """The Hotline did not start; the message carries the end of its log."""


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


class SelfHostedHotline:
    """`url` is known at once; `start()` runs it, `stop()` stops it and removes its files."""

    def __init__(
        self,
        *,
        auth_token: str,
        account_sid: str,
        admin_token: str,
        host: str = "127.0.0.1",
        port: int | None = None,
        wrapup_seconds: int | None = None,
    ) -> None:
        self._workdir = tempfile.TemporaryDirectory(prefix="hotline-simulate-")
        self._host = host
        self._port = port or free_port(host)
        self.url = f"http://{host}:{self._port}"
        self.log_path = Path(self._workdir.name) / "hotline.log"
        self._env = {
            **os.environ,
            "HOTLINE_ENVIRONMENT": "development",
            "HOTLINE_DATABASE_URL": f"sqlite:///{Path(self._workdir.name) / 'hotline.db'}",
            "HOTLINE_EMBEDDED_REDIS_PATH": str(Path(self._workdir.name) / "redis.db"),
            "HOTLINE_PUBLIC_URL": self.url,
            "HOTLINE_BUSINESS_HOURS": "always",
            "HOTLINE_HOLIDAYS": "",
            "TWILIO_AUTH_TOKEN": auth_token,
            "TWILIO_ACCOUNT_SID": account_sid,
            "HOTLINE_ADMIN_TOKEN": admin_token,
            "HOTLINE_LOG_LEVEL": "WARNING",
        }
        if wrapup_seconds is not None:
            self._env["HOTLINE_WRAPUP_SECONDS"] = str(wrapup_seconds)
        # An outside Redis would be shared with whatever else uses it: always embed one.
        self._env.pop("HOTLINE_REDIS_URL", None)
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, twilio_api_base: str) -> str:
        """Start it, sending its Twilio REST calls to `twilio_api_base`; its URL once ready."""
        env = {**self._env, "HOTLINE_TWILIO_API_BASE": twilio_api_base}
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "hotline.cli", "serve", "--host", self._host]
                + ["--port", str(self._port)],
                env=env,
                # The working directory holds no `.env` that could override the settings above.
                cwd=self._workdir.name,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return self.url
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise HostingError(f"the Hotline did not start:\n{self.log_tail()}")

    def log_tail(self, lines: int = 20) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            # `hotline serve` takes SIGTERM as Ctrl-C: its worker and Redis stop with it.
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._workdir.cleanup()
