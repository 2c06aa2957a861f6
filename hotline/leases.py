"""Leases: a Redis key that says "a live worker is sending this" for a bounded time.

A job that claims a survey or a callback in SQL holds a lease on it from just before the claim
until its REST request has had time to end. A row still claimed when its lease has lapsed
belongs to a worker that died (SIGKILL, a lost machine): the sweepers recover it at once instead
of after the long claim timeout. The lease is never released, only left to expire: a job that
finished has moved its row on, and a stale release could drop another worker's lease.
"""

from __future__ import annotations

import logging

import redis

from hotline.settings import Settings

log = logging.getLogger(__name__)

# Beyond the REST requests a job makes while holding a lease: its database commits.
_MARGIN_SECONDS = 5


def lease_seconds(settings: Settings) -> int:
    """How long a claim may stand with no live lease before a sweeper recovers it: two REST
    requests (look up, then send) at the Twilio timeout, and a margin."""
    return int(2 * settings.twilio_timeout_seconds) + _MARGIN_SECONDS


def lease_key(kind: str, ident: object) -> str:
    return f"lease:{kind}:{ident}"


def hold(connection: redis.Redis, key: str, seconds: int) -> None:
    """Take or renew the lease. Redis away: the claim's timeout recovers it instead."""
    try:
        connection.set(key, 1, ex=seconds)
    except redis.RedisError:
        log.warning("cannot hold the lease %s; its claim recovers by timeout only", key)


def held(connection: redis.Redis, key: str) -> bool:
    """Whether a live worker holds the lease; if Redis cannot tell, assume it does."""
    try:
        return bool(connection.exists(key))
    except redis.RedisError:
        return True
