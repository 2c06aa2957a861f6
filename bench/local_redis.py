"""The Redis a benchmark uses: the one given, else the local server, else an embedded one."""

from __future__ import annotations

import socket
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from hotline.redis import EmbeddedRedis


@contextmanager
def redis_url(given: str | None, *, db: int) -> Iterator[str]:
    """`given`, or 127.0.0.1:6379 database `db` if it answers, else an embedded Redis for the
    run."""
    if given is not None:
        yield given
        return
    with socket.socket() as sock:
        sock.settimeout(0.5)
        reachable = sock.connect_ex(("127.0.0.1", 6379)) == 0
    if reachable:
        yield f"redis://127.0.0.1:6379/{db}"
        return
    embedded = EmbeddedRedis(Path(tempfile.mkdtemp()) / "bench.db")
    try:
        yield embedded.url
    finally:
        embedded.close()
