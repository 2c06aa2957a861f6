"""The live figures over HTTP: who may read them, their schema, the stream, /metrics, history."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta

import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, select
from twilio.request_validator import RequestValidator

from crm.models import Callback, Customer, Ticket
from hotline.app import create_app
from hotline.clock import FrozenClock
from hotline.jobs import services
from hotline.settings import Settings
from routing import jobs
from routing.models import DailyFigures
from routing.stats_models import SupervisorStats
from tests.conftest import PUBLIC_URL, TEST_TOKEN, Twilio, call_params
from tests.routing.staff import People, add_people
from tests.routing.test_agents_api import WHO, headers_of
from tests.routing.test_engine import agent

METRICS_TOKEN = "metrics-token-0123456789abcdef"


@pytest.fixture
def client(
    settings: Settings, clock: FrozenClock, redis_client: redis.Redis
) -> Iterator[TestClient]:
    # A one-second stream, so a test can read one to its end.
    changed = settings.model_copy(
        update={"stats_stream_seconds": 1, "metrics_token": METRICS_TOKEN}
    )
    with TestClient(create_app(changed, clock=clock), base_url=PUBLIC_URL) as test_client:
        yield test_client


@pytest.fixture
def people(engine: Engine, clock: FrozenClock) -> People:
    return add_people(engine, clock)


def one_call_answered(clock: FrozenClock) -> None:
    router = jobs.router()
    router.agent_ready(agent=agent(1, cards=8), now=clock.now())
    router.arrive(call_sid="CA1", queue="cards", language="zh", priority=3,
                  enqueued_at=clock.now(), now=clock.now())  # fmt: skip
    clock.advance(6)
    router.offer_result(call_sid="CA1", agent_id=1, outcome="answered", now=clock.now())
    clock.advance(4)


FIGURE_ROUTES = ["/api/supervisor/stats", "/api/supervisor/stream"]


@pytest.mark.parametrize("path", FIGURE_ROUTES)
@pytest.mark.parametrize(
    ("who", "status"), list(zip(WHO, (401, 403, 403, 200, 200, 200), strict=True))
)
def test_only_supervisors_read_the_figures(
    client: TestClient, people: People, path: str, who: str, status: int
) -> None:
    response = client.get(path, headers=headers_of(people, who))
    assert response.status_code == status, response.text
    if status >= 400:
        assert response.json()["error"] == ("unauthorized" if status == 401 else "forbidden")


def test_the_stats_follow_their_schema(
    client: TestClient, people: People, clock: FrozenClock, engine: Engine
) -> None:
    one_call_answered(clock)
    add_callback(engine, clock, due_in=-60)
    add_callback(engine, clock, due_in=3600)
    body = client.get("/api/supervisor/stats", headers=people.supervisor.headers).json()
    assert set(body) == {"generated_at", "day", "service_level_seconds", "queues", "overall",
                         "agents"}  # fmt: skip
    cards = next(q for q in body["queues"] if q["queue"] == "cards")
    assert {"queue", "waiting", "longest_wait_seconds", "expected_wait_seconds", "agents",
            "today"} <= set(cards)  # fmt: skip
    today = cards["today"]
    assert (today["offered"], today["answered"], today["abandoned"]) == (1, 1, 0)
    assert (today["service_level"], today["asa_seconds"], today["aht_seconds"]) == (1.0, 6.0, None)
    assert today["abandon_rate"] == 0.0
    assert body["overall"]["agents"]["busy"] == 1 and body["overall"]["waiting"] == 0
    # Two callbacks owed since today; one of them is due already; no call placed yet.
    assert body["overall"]["callbacks_due"] == 1
    assert body["overall"]["today"]["callbacks_scheduled"] == 2
    assert body["overall"]["today"]["callbacks_placed"] == 0
    assert cards["callbacks_due"] is None
    assert body["agents"][0]["state"] == "busy" and body["day"] == "2026-11-24"
    SupervisorStats.model_validate(body)


def test_each_queue_carries_the_service_level_it_should_keep(
    settings: Settings, clock: FrozenClock, people: People
) -> None:
    # complaints sets its own 0.7 in the routing file; the rest and the overall take the setting.
    changed = settings.model_copy(update={"service_level_target": 0.9})
    with TestClient(create_app(changed, clock=clock), base_url=PUBLIC_URL) as http:
        body = http.get("/api/supervisor/stats", headers=people.supervisor.headers).json()
    targets = {q["queue"]: q["service_level_target"] for q in body["queues"]}
    assert targets.pop("complaints") == 0.7
    assert len(targets) >= 3 and set(targets.values()) == {0.9}
    assert body["overall"]["service_level_target"] == 0.9


def add_callback(engine: Engine, clock: FrozenClock, *, due_in: int) -> None:
    with Session(engine) as session:
        customer = Customer(name="李雷", created_at=clock.now())
        session.add(customer)
        session.flush()
        ticket = Ticket(number=f"T20261124-{due_in + 10000:05d}", customer_id=customer.id,
                        category="cards", subject="card", created_at=clock.now(),
                        updated_at=clock.now(), last_contact_at=clock.now())  # fmt: skip
        session.add(ticket)
        session.flush()
        assert ticket.id is not None
        session.add(Callback(ticket_id=ticket.id, phone="+8613800138000", reason="voicemail",
                             due_at=clock.now() + timedelta(seconds=due_in),
                             created_at=clock.now()))  # fmt: skip
        session.commit()


def test_the_stream_sends_the_figures_as_events(
    client: TestClient, people: People, clock: FrozenClock
) -> None:
    one_call_answered(clock)
    with client.stream("GET", "/api/supervisor/stream", headers=people.supervisor.headers) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        text = "".join(r.iter_text())
    assert text.startswith("retry: 1000\n\n")
    events = [chunk for chunk in text.split("\n\n") if chunk.startswith("event: stats")]
    # The clock stands still, so the figures do not change: one event in the stream's second.
    assert len(events) == 1
    data = json.loads(events[0].split("data: ", 1)[1])
    assert SupervisorStats.model_validate(data).overall.today.answered == 1


def test_metrics_need_their_token(client: TestClient, app_client: TestClient) -> None:
    assert client.get("/metrics").status_code == 401
    wrong = client.get("/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and wrong.json()["error"] == "unauthorized"
    # Without HOTLINE_METRICS_TOKEN there are no metrics at all.
    assert app_client.get("/metrics").status_code == 404


def test_metrics_in_prometheus_text_format(
    client: TestClient, clock: FrozenClock, redis_client: redis.Redis
) -> None:
    twilio = Twilio(client, redis_client, RequestValidator(TEST_TOKEN))
    assert twilio.post("/twilio/voice/incoming", call_params("CA" + "5" * 32)).status_code == 200
    router = jobs.router()
    router.arrive(call_sid="CA1", queue="cards", language="zh", priority=3,
                  enqueued_at=clock.now(), now=clock.now())  # fmt: skip
    clock.advance(12)
    response = client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    lines = response.text.splitlines()
    assert 'hotline_queue_waiting{queue="cards"} 1' in lines
    assert 'hotline_queue_longest_wait_seconds{queue="cards"} 12.000' in lines
    assert 'hotline_agents{state="available"} 0' in lines
    assert 'hotline_jobs_queued{queue="default"} 0' in lines
    assert "# TYPE hotline_webhook_duration_seconds histogram" in lines
    route = 'route="/twilio/voice/incoming"'
    assert f'hotline_webhook_duration_seconds_bucket{{{route},le="+Inf"}} 1' in lines
    assert f"hotline_webhook_duration_seconds_count{{{route}}} 1" in lines
    for line in lines:  # every sample: a name, optional labels, a number
        if not line.startswith("#"):
            float(line.rsplit(" ", 1)[1])


def test_the_heartbeat_keeps_the_days_figures_in_the_database(
    client: TestClient, clock: FrozenClock, engine: Engine
) -> None:
    one_call_answered(clock)
    assert jobs.save_figures() == 2 * 7  # today and yesterday, six queues and "*"
    assert jobs.save_figures() == 0  # once a minute at most
    services().redis.delete(jobs.FIGURES_SAVED)
    clock.advance(5)
    jobs.router().call_gone(call_sid="CA1", now=clock.now())
    jobs.save_figures()
    with Session(engine) as session:
        rows = session.exec(select(DailyFigures).where(DailyFigures.answered > 0)).all()
        assert {(row.queue, row.day.isoformat()) for row in rows} == {
            ("cards", "2026-11-24"), ("*", "2026-11-24"),
        }  # fmt: skip
        overall = next(row for row in rows if row.queue == "*")
        assert (overall.offered, overall.handled, overall.talk_seconds) == (1, 1, 9.0)
        assert overall.wait_answered_seconds == 6.0
