"""What a process holds for its lifetime: built once in the app's lifespan or a worker."""

from __future__ import annotations

from dataclasses import dataclass, field

from redis import Redis
from sqlalchemy import Engine

from hotline.business_hours import BusinessCalendar, parse_calendar
from hotline.clock import Clock, SystemClock
from hotline.db import make_engine
from hotline.redis import sync_client
from hotline.settings import Settings
from hotline.sim_clock import SharedSimClock
from hotline.twilio_gateway import TwilioGateway, make_gateway


@dataclass
class Services:
    settings: Settings
    engine: Engine
    redis: Redis
    clock: Clock
    calendar: BusinessCalendar
    gateway: TwilioGateway = field(repr=False)

    @classmethod
    def build(
        cls,
        settings: Settings,
        *,
        clock: Clock | None = None,
        engine: Engine | None = None,
        redis_client: Redis | None = None,
        gateway: TwilioGateway | None = None,
    ) -> Services:
        if settings.redis_url is None and redis_client is None:
            raise RuntimeError("no Redis configured: set HOTLINE_REDIS_URL or use `hotline serve`")
        engine = engine or make_engine(settings.database_url)
        client = redis_client or sync_client(settings.redis_url or "")
        if clock is None:
            clock = (
                SharedSimClock(client, settings.sim_clock_key)
                if settings.sim_clock_key
                else SystemClock()
            )
        return cls(
            settings=settings,
            engine=engine,
            redis=client,
            clock=clock,
            calendar=parse_calendar(
                settings.business_hours, timezone=settings.timezone, holidays=settings.holidays
            ),
            gateway=gateway or make_gateway(settings, engine, clock.now),
        )

    def close(self) -> None:
        self.redis.close()
        self.engine.dispose()
