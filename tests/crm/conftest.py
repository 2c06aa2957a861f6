from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis
from sqlalchemy import Engine

from hotline.clock import FrozenClock
from hotline.context import Services
from hotline.jobs import use_services
from hotline.settings import Settings


@pytest.fixture
def services(
    settings: Settings, clock: FrozenClock, engine: Engine, redis_client: redis.Redis
) -> Iterator[Services]:
    """The services jobs run with: the frozen clock, the outbox gateway."""
    built = Services.build(settings, clock=clock, engine=engine, redis_client=redis_client)
    use_services(built)
    yield built
    use_services(None)
