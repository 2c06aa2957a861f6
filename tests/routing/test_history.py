"""The charts' history: one sample a minute from the heartbeat, read back over the API."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from hotline.app import create_app
from hotline.clock import FrozenClock
from hotline.jobs import services
from hotline.settings import Settings
from routing import history, jobs
from routing.floor import read_floor
from tests.conftest import PUBLIC_URL
from tests.routing.floor_scenes import arrive, talking_agent
from tests.routing.staff import People, add_people
from tests.routing.test_agents_api import WHO, headers_of


@pytest.fixture
def client(
    settings: Settings, clock: FrozenClock, redis_client: redis.Redis
) -> Iterator[TestClient]:
    with TestClient(create_app(settings, clock=clock), base_url=PUBLIC_URL) as test_client:
        yield test_client


@pytest.fixture
def people(engine: Engine, clock: FrozenClock) -> People:
    return add_people(engine, clock)


def two_minutes(clock: FrozenClock) -> None:
    """10:00:05 one call answered and one waiting; the heartbeat runs on to 10:01:10."""
    talking_agent(clock)
    arrive(clock, "CA1")
    jobs.watch_floor()
    clock.advance(30)
    jobs.watch_floor()  # the same minute: its sample stays the first one
    clock.advance(35)
    jobs.watch_floor()


def test_one_point_per_minute_with_the_floor_as_it_was(
    client: TestClient, people: People, clock: FrozenClock
) -> None:
    two_minutes(clock)
    body = client.get("/api/supervisor/history", headers=people.supervisor.headers).json()
    assert body["interval_seconds"] == 60
    first, second = body["points"]
    assert (first["at"], second["at"]) == ("2026-11-24T02:00:00Z", "2026-11-24T02:01:00Z")
    assert first["queues"]["cards"] == {
        "waiting": 1, "longest_wait_seconds": 0.0, "service_level": 1.0,
        "offered": 0, "answered": 0, "abandoned": 0,
    }  # fmt: skip
    # At 10:01:10 the caller has waited 65 s; the minute before held both arrivals, one answer.
    assert second["queues"]["cards"] == {
        "waiting": 1, "longest_wait_seconds": 65.0, "service_level": 1.0,
        "offered": 2, "answered": 1, "abandoned": 0,
    }  # fmt: skip
    assert second["overall"] == second["queues"]["cards"]
    assert second["queues"]["loans"]["waiting"] == 0
    assert second["queues"]["loans"]["service_level"] is None


def test_the_history_reads_only_the_minutes_asked_for(
    client: TestClient, people: People, clock: FrozenClock
) -> None:
    two_minutes(clock)
    headers = people.supervisor.headers
    body = client.get("/api/supervisor/history?minutes=1", headers=headers).json()
    assert [point["at"] for point in body["points"]] == ["2026-11-24T02:01:00Z"]
    clock.advance(3600)
    assert client.get("/api/supervisor/history", headers=headers).json()["points"] == []
    body = client.get("/api/supervisor/history?minutes=1440", headers=headers).json()
    assert len(body["points"]) == 2


def test_several_heartbeats_keep_one_sample_a_minute_for_a_day(
    client: TestClient, clock: FrozenClock, redis_client: redis.Redis
) -> None:
    floor = read_floor(redis_client, jobs.router().config, clock.now())
    assert history.sample(redis_client, floor) is True
    assert history.sample(services().redis, floor) is False  # another worker, the same minute
    ttl = redis_client.ttl(f"{{rt}}:history:{floor.minute}")
    assert 24 * 3600 < ttl <= 24 * 3600 + 300


@pytest.mark.parametrize("minutes", [0, 1441])
def test_minutes_outside_a_day_are_422(client: TestClient, people: People, minutes: int) -> None:
    response = client.get(
        f"/api/supervisor/history?minutes={minutes}", headers=people.supervisor.headers
    )
    assert response.status_code == 422 and response.json()["error"] == "validation_error"


@pytest.mark.parametrize(
    ("who", "status"), list(zip(WHO, (401, 403, 403, 200, 200, 200), strict=True))
)
def test_only_supervisors_read_the_history(
    client: TestClient, people: People, who: str, status: int
) -> None:
    response = client.get("/api/supervisor/history", headers=headers_of(people, who))
    assert response.status_code == status, response.text
