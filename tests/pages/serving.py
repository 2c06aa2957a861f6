"""The app served for real on a free local port, in this process, on a thread of its own:
what a browser needs to talk to, with the test's own settings (databases, Redis)."""

from __future__ import annotations

import threading
import time
from types import TracebackType

import uvicorn
from fastapi import FastAPI

from simulator.hosting import free_port

START_TIMEOUT_SECONDS = 20.0


class ServedApp:
    def __init__(self, app: FastAPI, host: str = "127.0.0.1") -> None:
        self.url = f"http://{host}:{free_port(host)}"
        port = int(self.url.rsplit(":", 1)[1])
        # Open event streams would hold a graceful shutdown for minutes: cut them after a bit.
        config = uvicorn.Config(
            app, host=host, port=port, log_level="warning", ws="none", access_log=False,
            timeout_graceful_shutdown=2,
        )  # fmt: skip
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    def __enter__(self) -> ServedApp:
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the app did not start serving")
            time.sleep(0.05)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._server.should_exit = True
        self._thread.join(15)
