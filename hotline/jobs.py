"""RQ wiring: named queues, a per-process context for job functions, enqueue-once.

Job functions are module-level, take ids, and reload state; a deterministic job id plus
database state makes a retry harmless.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

import redis
from rq import Queue, Retry

from hotline.context import Services
from hotline.settings import get_settings

log = logging.getLogger(__name__)

QUEUE_NAMES = ("notify", "callbacks", "recordings", "default")
# Back-off for jobs that talk to the database or Twilio: a minute of outage costs nothing.
DEFAULT_RETRY = Retry(max=6, interval=[1, 5, 15, 60, 300, 900])
_ENQUEUED_MARK_TTL = 24 * 3600

_services: Services | None = None
_NOT_IN_JOB_ID = re.compile(r"[^A-Za-z0-9_-]")


def job_id(*parts: object) -> str:
    """A deterministic RQ job id; RQ takes letters, digits, '-' and '_' only (1764.5 -> 1764_5)."""
    return _NOT_IN_JOB_ID.sub("_", "-".join(str(part) for part in parts))


def services() -> Services:
    """The worker process's services, built on first use (after any fork)."""
    global _services
    if _services is None:
        _services = Services.build(get_settings())
    return _services


def use_services(value: Services | None) -> None:
    """Install the services jobs run with (tests, `hotline serve`)."""
    global _services
    _services = value


def queue(name: str, connection: redis.Redis) -> Queue:
    return Queue(name, connection=connection)


def enqueue_once(
    connection: redis.Redis,
    queue_name: str,
    func: Callable[..., Any],
    *args: Any,
    job_id: str,
    retry: Retry | None = DEFAULT_RETRY,
) -> bool:
    """Enqueue unless a job with this id was already enqueued; True if this call did it."""
    mark = f"jobs:enqueued:{job_id}"
    if not connection.set(mark, 1, nx=True, ex=_ENQUEUED_MARK_TTL):
        return False
    try:
        # RQ's default result_ttl, though nothing reads the results: with result_ttl=0 RQ
        # deletes the finished job at once, which costs a worker more than keeping it.
        queue(queue_name, connection).enqueue(func, *args, job_id=job_id, retry=retry)
    except BaseException:
        connection.delete(mark)  # let a later attempt enqueue it
        raise
    log.debug("enqueued %s on %s", job_id, queue_name)
    return True
