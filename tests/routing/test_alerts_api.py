"""The alert routes: who may call them, the list, acknowledging, the stream, /metrics."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from hotline.app import create_app
from hotline.clock import FrozenClock
from hotline.db import session_scope
from hotline.settings import Settings
from routing import alert_feed, alerts, jobs
from routing.alerts import Condition
from routing.models import AlertKind, AlertPublic
from tests.conftest import PUBLIC_URL
from tests.routing.floor_scenes import arrive
from tests.routing.staff import People, add_people
from tests.routing.test_agents_api import WHO, headers_of

METRICS_TOKEN = "metrics-token-0123456789abcdef"


@pytest.fixture
def client(
    settings: Settings, clock: FrozenClock, redis_client: redis.Redis
) -> Iterator[TestClient]:
    changed = settings.model_copy(
        update={"stats_stream_seconds": 2, "metrics_token": METRICS_TOKEN}
    )
    with TestClient(create_app(changed, clock=clock), base_url=PUBLIC_URL) as test_client:
        yield test_client


@pytest.fixture
def people(engine: Engine, clock: FrozenClock) -> People:
    return add_people(engine, clock)


def an_alert(engine: Engine, clock: FrozenClock, queue: str = "loans") -> int:
    condition = Condition(AlertKind.no_agents, queue, {"waiting": 1, "longest_wait_seconds": 0})
    with session_scope(engine) as session:
        alert, _ = alerts.raise_alert(
            session=session, condition=condition, messages=alerts.load_messages(), now=clock.now()
        )
        assert alert.id is not None
        return alert.id


ROUTES = [("GET", "/api/supervisor/alerts"), ("POST", "/api/supervisor/alerts/{id}/acknowledge")]


@pytest.mark.parametrize(("method", "path"), ROUTES)
@pytest.mark.parametrize(
    ("who", "status"), list(zip(WHO, (401, 403, 403, 200, 200, 200), strict=True))
)
def test_only_supervisors_see_and_acknowledge_alerts(
    client: TestClient,
    people: People,
    engine: Engine,
    clock: FrozenClock,
    method: str,
    path: str,
    who: str,
    status: int,
) -> None:
    alert_id = an_alert(engine, clock)
    url = path.format(id=alert_id)
    response = client.request(method, url, headers=headers_of(people, who))
    assert response.status_code == status, response.text
    if status >= 400:
        assert response.json()["error"] == ("unauthorized" if status == 401 else "forbidden")


def test_the_list_follows_the_alert_schema(
    client: TestClient, people: People, clock: FrozenClock
) -> None:
    arrive(clock, "CA1", "loans")
    jobs.watch_floor()
    (body,) = client.get("/api/supervisor/alerts", headers=people.supervisor.headers).json()
    assert set(body) == {"id", "kind", "queue", "raised_at", "cleared_at", "acknowledged_at",
                         "acknowledged_by", "message_zh", "message_en", "details"}  # fmt: skip
    assert (body["kind"], body["queue"], body["cleared_at"]) == ("no_agents", "loans", None)
    assert body["raised_at"] == "2026-11-24T02:00:00Z"
    assert (
        body["message_en"] == "Loans and wealth: 1 waiting and no agent signed in who can take them"
    )
    assert body["details"] == {"waiting": 1, "longest_wait_seconds": 0.0}


def test_open_alerts_stay_until_acknowledged_even_when_cleared(
    client: TestClient, people: People, clock: FrozenClock
) -> None:
    arrive(clock, "CA1", "loans")
    jobs.watch_floor()
    jobs.router().call_gone(call_sid="CA1", now=clock.now())
    jobs.watch_floor()
    headers = people.supervisor.headers
    (cleared,) = client.get("/api/supervisor/alerts?state=open", headers=headers).json()
    assert cleared["cleared_at"] is not None
    client.post(f"/api/supervisor/alerts/{cleared['id']}/acknowledge", headers=headers)
    assert client.get("/api/supervisor/alerts", headers=headers).json() == []
    assert len(client.get("/api/supervisor/alerts?state=all", headers=headers).json()) == 1


def test_the_list_is_newest_first_and_limited(
    client: TestClient, people: People, engine: Engine, clock: FrozenClock
) -> None:
    first = an_alert(engine, clock, "loans")
    clock.advance(10)
    second = an_alert(engine, clock, "cards")
    headers = people.supervisor.headers
    listed = client.get("/api/supervisor/alerts?state=all", headers=headers).json()
    assert [a["id"] for a in listed] == [second, first]
    limited = client.get("/api/supervisor/alerts?state=all&limit=1", headers=headers).json()
    assert [a["id"] for a in limited] == [second]


@pytest.mark.parametrize("query", ["state=closed", "limit=0", "limit=501"])
def test_bad_list_queries_are_422(client: TestClient, people: People, query: str) -> None:
    response = client.get(f"/api/supervisor/alerts?{query}", headers=people.supervisor.headers)
    assert response.status_code == 422 and response.json()["error"] == "validation_error"


def test_acknowledging_records_who_and_when_once(
    client: TestClient, people: People, engine: Engine, clock: FrozenClock
) -> None:
    alert_id = an_alert(engine, clock)
    url = f"/api/supervisor/alerts/{alert_id}/acknowledge"
    clock.advance(30)
    first = client.post(url, headers=people.supervisor.headers).json()
    assert first["acknowledged_by"] == people.supervisor.agent_id
    assert first["acknowledged_at"] == "2026-11-24T02:00:30Z"
    clock.advance(30)
    again = client.post(url, headers=people.admin.headers)
    assert again.status_code == 200 and again.json() == first


def test_acknowledging_an_unknown_alert_is_404(client: TestClient, people: People) -> None:
    response = client.post(
        "/api/supervisor/alerts/999/acknowledge", headers=people.supervisor.headers
    )
    assert response.status_code == 404 and response.json()["error"] == "not_found"


def alert_events(text: str) -> list[tuple[str, AlertPublic]]:
    events = []
    for chunk in text.split("\n\n"):
        lines = dict(line.split(": ", 1) for line in chunk.splitlines() if ": " in line)
        if lines.get("event") == "alert":
            events.append((lines["id"], AlertPublic.model_validate(json.loads(lines["data"]))))
    return events


def test_alerts_raised_while_the_stream_is_open_are_sent_on_it(
    client: TestClient, people: People, clock: FrozenClock
) -> None:
    arrive(clock, "CA1", "loans")
    chunks = []
    with client.stream("GET", "/api/supervisor/stream", headers=people.supervisor.headers) as r:
        for chunk in r.iter_text():
            chunks.append(chunk)
            if chunk.startswith("event: stats") and len(chunks) == 2:
                jobs.watch_floor()  # the stream is reading the feed from here on
    text = "".join(chunks)
    assert text.count("event: stats") == 1  # the figures still come
    ((_, alert),) = alert_events(text)
    assert (alert.kind, alert.queue, alert.cleared_at) == (AlertKind.no_agents, "loans", None)


def test_a_new_stream_sends_alert_changes_from_now_on(
    client: TestClient, people: People, clock: FrozenClock
) -> None:
    arrive(clock, "CA1", "loans")
    jobs.watch_floor()  # before the page opened: it reads GET /api/supervisor/alerts
    with client.stream("GET", "/api/supervisor/stream", headers=people.supervisor.headers) as r:
        assert alert_events("".join(r.iter_text())) == []


def test_a_reconnecting_stream_gets_the_alert_changes_it_missed(
    client: TestClient, people: People, clock: FrozenClock, redis_client: redis.Redis
) -> None:
    arrive(clock, "CA1", "loans")
    (raised,) = jobs.watch_floor().raised
    seen = alert_feed.latest(redis_client)  # the browser saw the alert raised, then went away
    url = f"/api/supervisor/alerts/{raised.id}/acknowledge"
    assert client.post(url, headers=people.supervisor.headers).status_code == 200
    headers = {**people.supervisor.headers, "Last-Event-ID": seen}
    with client.stream("GET", "/api/supervisor/stream", headers=headers) as r:
        text = "".join(r.iter_text())
    ((event_id, alert),) = alert_events(text)
    assert alert.acknowledged_by == people.supervisor.agent_id
    assert event_id == alert_feed.latest(redis_client) != seen


def test_open_alerts_are_a_prometheus_gauge(
    client: TestClient, engine: Engine, clock: FrozenClock
) -> None:
    an_alert(engine, clock, "loans")
    an_alert(engine, clock, "cards")
    response = client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    lines = response.text.splitlines()
    assert "# TYPE hotline_alerts_open gauge" in lines
    assert 'hotline_alerts_open{kind="no_agents"} 2' in lines
    assert 'hotline_alerts_open{kind="long_wait"} 0' in lines
