"""Health probes for container orchestrators: `hotline check api` and `hotline check worker`.

The API is ready when /readyz says so (database and Redis answer). A worker is alive when RQ
holds a recent heartbeat from a worker on this host: a stuck or dead worker stops beating.
"""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta

import httpx
from rq import Worker

from hotline.redis import sync_client
from hotline.settings import Settings

# Our workers register with this TTL, so an idle one beats every TTL - 15 s (RQ's dequeue
# timeout); one silent for longer than the TTL plus a margin is stuck or gone.
WORKER_TTL_SECONDS = 60
WORKER_STALE_AFTER = timedelta(seconds=WORKER_TTL_SECONDS + 30)


def check_api(url: str, timeout: float = 3.0) -> tuple[bool, str]:
    """Whether the API at `url` reports itself ready."""
    try:
        response = httpx.get(f"{url.rstrip('/')}/readyz", timeout=timeout)
    except httpx.HTTPError as exc:
        return False, f"api unreachable: {type(exc).__name__}"
    return response.status_code == 200, response.text


def check_worker(
    settings: Settings, *, hostname: str | None = None, now: datetime | None = None
) -> tuple[bool, str]:
    """Whether an RQ worker on this host has beaten recently."""
    if settings.redis_url is None:
        return False, "HOTLINE_REDIS_URL is not set"
    host = hostname or socket.gethostname()
    moment = now or datetime.now(UTC)
    connection = sync_client(settings.redis_url)
    try:
        workers = [found for found in Worker.all(connection=connection) if found.hostname == host]
        beats = [worker.last_heartbeat for worker in workers if worker.last_heartbeat]
    except Exception as exc:  # any failure to read Redis means "not healthy"
        return False, f"redis unreachable: {type(exc).__name__}"
    finally:
        connection.close()
    if not beats:
        return False, f"no worker registered on {host}"
    latest = max(beat if beat.tzinfo else beat.replace(tzinfo=UTC) for beat in beats)
    age = moment - latest
    if age > WORKER_STALE_AFTER:
        return False, f"last worker heartbeat {age.total_seconds():.0f} s ago"
    seconds = age.total_seconds()
    return True, f"{len(workers)} worker(s) on {host}, last heartbeat {seconds:.0f} s ago"
