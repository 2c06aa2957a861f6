"""The simulated clock the app's processes share through Redis: refused in production, read
from the published anchor, never running backwards, and the worker's ticker on its time."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
import redis
from pydantic import ValidationError

from hotline.context import Services
from hotline.settings import Settings
from hotline.sim_clock import REFRESH_SECONDS, Anchor, SharedSimClock, SimTicker, publish
from tests.hotline.test_settings import production

KEY = "sim:clock:test"
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC).timestamp()


class Wall:
    """A wall clock the test moves."""

    def __init__(self, at: float) -> None:
        self.at = at

    def __call__(self) -> float:
        return self.at


def test_production_refuses_the_simulated_clock() -> None:
    with pytest.raises(ValidationError, match="HOTLINE_SIM_CLOCK_KEY"):
        production(sim_clock_key=KEY)


def test_the_anchor_survives_its_encoding_and_refuses_a_stopped_clock() -> None:
    anchor = Anchor(START, 1000.5, 12.5)
    assert Anchor.decode(anchor.encode().encode()) == anchor
    with pytest.raises(ValueError):
        Anchor.decode(f"{START} 1000 0")


def test_time_follows_the_published_anchor(redis_client: redis.Redis) -> None:
    wall = Wall(1000.0)
    clock = SharedSimClock(redis_client, KEY, wall=wall)
    # Nothing published yet: the wall's own time.
    assert clock.now().timestamp() == pytest.approx(1000.0)
    publish(redis_client, KEY, Anchor(START, 1000.0, 10.0))
    wall.at = 1002.0
    assert clock.now().timestamp() == pytest.approx(START + 20.0)
    assert clock.speed() == 10.0


def test_a_slowdown_read_late_never_turns_time_back(redis_client: redis.Redis) -> None:
    wall = Wall(1000.0)
    clock = SharedSimClock(redis_client, KEY, wall=wall)
    publish(redis_client, KEY, Anchor(START, 1000.0, 10.0))
    wall.at = 1001.0
    ahead = clock.now()  # START + 10 on the old speed
    # The master slowed down at 1000.5 (START + 5) to 1×; the process reads it late.
    publish(redis_client, KEY, Anchor(START + 5.0, 1000.5, 1.0))
    wall.at = 1001.0 + REFRESH_SECONDS + 0.1
    # Held, not stepped back to START + 5.5 and a bit.
    assert clock.now() == ahead
    wall.at = 1006.0
    assert clock.now().timestamp() == pytest.approx(START + 10.5)


def test_services_run_on_the_shared_clock_when_configured(
    settings: Settings, redis_client: redis.Redis
) -> None:
    simulated = settings.model_copy(update={"sim_clock_key": KEY})
    publish(redis_client, KEY, Anchor(START, datetime.now(UTC).timestamp(), 1.0))
    services = Services.build(simulated)
    try:
        assert isinstance(services.clock, SharedSimClock)
        assert abs(services.clock.now().timestamp() - START) < 60
    finally:
        services.close()
    plain = Services.build(settings)
    try:
        assert not isinstance(plain.clock, SharedSimClock)
    finally:
        plain.close()


def test_the_ticker_runs_once_a_simulated_second(redis_client: redis.Redis) -> None:
    # At 100× a simulated second is 10 ms: a few wall tenths give dozens of ticks.
    publish(redis_client, KEY, Anchor(START, datetime.now(UTC).timestamp(), 100.0))
    clock = SharedSimClock(redis_client, KEY)
    ran = threading.Event()
    ticker = SimTicker(clock, lambda: ran.set())
    ticker.start()
    try:
        assert ran.wait(2)
        threading.Event().wait(0.3)
    finally:
        ticker.stop()
        ticker.join(2)
    # At 1× it would have ticked once; scheduling slack on a busy machine allows fewer than 30.
    assert ticker.runs >= 5
