"""Jobs that run every second (the router's heartbeat, the call logger) as chains of RQ jobs.

Each link schedules the next. Exactly one chain per job should be alive: the chain's mark in
Redis holds the token of the live chain, each link refreshes it and stops if another chain owns
it. A chain dies when a link cannot reach Redis (an outage); its mark then expires and the
keeper thread in every worker starts a new one, so the work resumes by itself.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import redis
from rq import Queue

from hotline.jobs import job_id

log = logging.getLogger(__name__)

# Refresh the mark if it is ours or gone; 1 if this chain is the live one.
_CONTINUE = """
local owner = redis.call('GET', KEYS[1])
if owner == false or owner == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
  return 1
end
return 0
"""


@dataclass(frozen=True)
class Chain:
    """One recurring job: `func(token)` runs every `every_seconds` on `queue`."""

    mark: str
    queue: str
    func: Callable[[str], Any]
    every_seconds: float = 1.0
    # A dead chain is replaced this long after its last link.
    ttl_seconds: int = 10

    def start(self, connection: redis.Redis) -> bool:
        """Start a chain unless one is alive; True if this call started it."""
        token = uuid.uuid4().hex
        if not connection.set(self.mark, token, nx=True, ex=self.ttl_seconds):
            return False
        Queue(self.queue, connection=connection).enqueue(
            self.func, token, job_id=job_id(self.mark, "start", token), result_ttl=0
        )
        log.info("started the %s chain", self.mark)
        return True

    def next(
        self, connection: redis.Redis, token: str, now: datetime, every_seconds: float | None = None
    ) -> bool:
        """Schedule the next link (in `every_seconds` if given: a setting) if this chain is the
        live one; False ends this chain."""
        every = self.every_seconds if every_seconds is None else every_seconds
        ttl = max(self.ttl_seconds, round(every * 3))
        live = connection.eval(_CONTINUE, 1, self.mark, token, ttl)
        if not live:
            log.warning("a second %s chain stops; another one is alive", self.mark)
            return False
        due = now.timestamp() + every
        Queue(self.queue, connection=connection).enqueue_in(
            timedelta(seconds=every),
            self.func,
            token,
            job_id=job_id(self.mark, round(due, 3)),
            result_ttl=0,
        )
        return True


class ChainKeeper(threading.Thread):
    """A worker's watch over the chains: starts any whose mark has expired."""

    def __init__(
        self, connection: redis.Redis, chains: Sequence[Chain], *, every_seconds: float = 2.0
    ) -> None:
        super().__init__(name="chain-keeper", daemon=True)
        self._connection = connection
        self._chains = list(chains)
        self._every = every_seconds
        self._stopped = threading.Event()

    def check(self) -> int:
        """Start what is dead; how many were started. Redis away: try again next time."""
        started = 0
        for chain in self._chains:
            try:
                started += chain.start(self._connection)
            except redis.RedisError:
                log.warning("cannot reach Redis to check the %s chain", chain.mark)
        return started

    def run(self) -> None:
        while not self._stopped.wait(self._every):
            self.check()

    def stop(self) -> None:
        self._stopped.set()
