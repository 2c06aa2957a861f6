"""Once-a-second job chains: one alive per job, a dead one replaced by the keeper."""

from __future__ import annotations

from datetime import UTC, datetime

import redis
from rq import Queue
from rq.registry import ScheduledJobRegistry

from hotline.chains import Chain, ChainKeeper
from hotline.settings import Settings
from simulator.hosting import free_port

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


def tick(token: str) -> str:
    return token


def chain() -> Chain:
    return Chain(mark="test:chain", queue="default", func=tick, every_seconds=1, ttl_seconds=10)


def test_one_chain_starts_and_a_second_start_does_nothing(redis_client: redis.Redis) -> None:
    assert chain().start(redis_client)
    assert not chain().start(redis_client)
    assert Queue("default", connection=redis_client).count == 1


def test_the_live_chain_schedules_its_next_link(redis_client: redis.Redis) -> None:
    live = chain()
    live.start(redis_client)
    token = redis_client.get(live.mark)
    assert token is not None
    assert live.next(redis_client, token.decode(), NOW)
    assert len(ScheduledJobRegistry("default", connection=redis_client)) == 1


def test_a_second_chain_stops_at_its_next_link(redis_client: redis.Redis) -> None:
    live = chain()
    live.start(redis_client)
    assert not live.next(redis_client, "an-older-chain", NOW)
    assert len(ScheduledJobRegistry("default", connection=redis_client)) == 0


def test_the_keeper_restarts_a_chain_whose_mark_expired(redis_client: redis.Redis) -> None:
    keeper = ChainKeeper(redis_client, [chain()])
    assert keeper.check() == 1
    assert keeper.check() == 0  # alive: left alone
    redis_client.delete("test:chain")  # a link could not reach Redis; the mark ran out
    assert keeper.check() == 1


def test_the_keeper_survives_redis_being_away(settings: Settings) -> None:
    away = redis.Redis(port=free_port(), socket_connect_timeout=0.2)
    assert ChainKeeper(away, [chain()]).check() == 0
