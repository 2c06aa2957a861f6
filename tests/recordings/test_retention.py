"""Retention with a moved clock: complaints kept 3 years, others 1; legal holds stop it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import redis
from fastapi.testclient import TestClient
from rq import SimpleWorker
from rq.registry import ScheduledJobRegistry
from sqlalchemy import Engine
from sqlmodel import Session

from crm.models import TicketType
from hotline.clock import FrozenClock
from hotline.settings import Settings
from recordings.jobs import RETENTION, purge_expired_recordings
from recordings.models import Recording
from tests.recordings.stored import stored_recording
from tests.routing.staff import People, add_people

COMPLAINT = "T20261124-0002"
INQUIRY = "T20261124-0001"


@pytest.fixture
def people(engine: Engine, clock: FrozenClock) -> People:
    return add_people(engine, clock)


@pytest.fixture
def two_recordings(
    app_client: TestClient, engine: Engine, settings: Settings, clock: FrozenClock
) -> tuple[Recording, Recording]:
    inquiry, _ = stored_recording(engine, settings, at=clock.now(), agent_id=None, number=INQUIRY)
    complaint, _ = stored_recording(
        engine,
        settings,
        at=clock.now(),
        agent_id=None,
        number=COMPLAINT,
        ticket_type=TicketType.complaint,
    )
    return inquiry, complaint


def reload(engine: Engine, recording: Recording) -> Recording:
    with Session(engine) as session:
        row = session.get(Recording, recording.id)
        assert row is not None
        return row


def audio_file(settings: Settings, recording: Recording) -> Path:
    assert recording.storage_key is not None
    return Path(settings.recordings_dir) / recording.storage_key


def test_nothing_is_deleted_before_its_time(
    engine: Engine, settings: Settings, clock: FrozenClock, two_recordings: tuple[Recording, ...]
) -> None:
    clock.advance(364 * 86400)
    assert purge_expired_recordings() == 0
    assert all(audio_file(settings, r).exists() for r in two_recordings)


def test_after_a_year_the_inquirys_audio_goes_and_its_metadata_stays(
    engine: Engine, settings: Settings, clock: FrozenClock, two_recordings: tuple[Recording, ...]
) -> None:
    inquiry, complaint = two_recordings
    clock.advance(366 * 86400)
    assert purge_expired_recordings() == 1
    row = reload(engine, inquiry)
    assert row.deleted_at == clock.now() and row.deleted_reason == "retention: inquiry, 365 days"
    assert row.sha256 is not None and row.duration_seconds == 3
    assert not audio_file(settings, inquiry).exists()
    assert audio_file(settings, complaint).exists()
    assert purge_expired_recordings() == 0  # the next day's run finds nothing new


def test_a_complaint_is_kept_three_years(
    engine: Engine, settings: Settings, clock: FrozenClock, two_recordings: tuple[Recording, ...]
) -> None:
    complaint = two_recordings[1]
    clock.advance((3 * 365 - 1) * 86400)
    purge_expired_recordings()
    assert reload(engine, complaint).deleted_at is None
    clock.advance(2 * 86400)
    assert purge_expired_recordings() == 1
    assert reload(engine, complaint).deleted_reason == "retention: complaint, 1095 days"


def test_a_legal_hold_keeps_the_audio_until_it_is_released(
    app_client: TestClient,
    engine: Engine,
    settings: Settings,
    clock: FrozenClock,
    people: People,
    admin_headers: dict[str, str],
    two_recordings: tuple[Recording, ...],
) -> None:
    inquiry = two_recordings[0]
    response = app_client.post(
        f"/api/tickets/{INQUIRY}/legal-hold",
        json={"reason": "court order 2026-17"},
        headers=people.supervisor.headers,
    )
    assert response.status_code == 201
    assert response.json()["set_by"] == f"agent:{people.supervisor.agent_id}"
    clock.advance(2 * 365 * 86400)
    assert purge_expired_recordings() == 0
    assert audio_file(settings, inquiry).exists()
    # Two years on, the people's tokens have long expired: the bootstrap admin releases it.
    released = app_client.delete(f"/api/tickets/{INQUIRY}/legal-hold", headers=admin_headers)
    assert released.status_code == 200 and released.json()["released_at"] is not None
    assert purge_expired_recordings() == 1  # the complaint's three years are not up yet
    assert not audio_file(settings, inquiry).exists()


def test_the_retention_days_are_a_setting(
    engine: Engine, settings: Settings, clock: FrozenClock, two_recordings: tuple[Recording, ...]
) -> None:
    from hotline.jobs import services

    services().settings.recordings_retention_days = {"complaint": 30, "default": 60}
    clock.advance(31 * 86400)
    assert purge_expired_recordings() == 1
    assert reload(engine, two_recordings[1]).deleted_reason == "retention: complaint, 30 days"


@pytest.mark.parametrize(
    ("who", "status"),
    [("supervisor", 201), ("admin", 201), ("me", 403), ("nobody", 401)],
)
def test_who_may_set_a_legal_hold(
    app_client: TestClient,
    people: People,
    two_recordings: tuple[Recording, ...],
    who: str,
    status: int,
) -> None:
    headers = {} if who == "nobody" else getattr(people, who).headers
    response = app_client.post(
        f"/api/tickets/{INQUIRY}/legal-hold", json={"reason": "audit"}, headers=headers
    )
    assert response.status_code == status


@pytest.mark.parametrize(("who", "status"), [("supervisor", 200), ("me", 403), ("nobody", 401)])
def test_who_may_release_a_legal_hold(
    app_client: TestClient,
    people: People,
    two_recordings: tuple[Recording, ...],
    who: str,
    status: int,
) -> None:
    app_client.post(
        f"/api/tickets/{INQUIRY}/legal-hold",
        json={"reason": "audit"},
        headers=people.supervisor.headers,
    )
    headers = {} if who == "nobody" else getattr(people, who).headers
    response = app_client.delete(f"/api/tickets/{INQUIRY}/legal-hold", headers=headers)
    assert response.status_code == status


def test_a_second_hold_is_409_and_releasing_none_is_404(
    app_client: TestClient, people: People, two_recordings: tuple[Recording, ...]
) -> None:
    url = f"/api/tickets/{INQUIRY}/legal-hold"
    headers = people.supervisor.headers
    assert app_client.delete(url, headers=headers).status_code == 404
    assert app_client.post(url, json={"reason": "a"}, headers=headers).status_code == 201
    assert app_client.post(url, json={"reason": "b"}, headers=headers).status_code == 409


def test_a_hold_on_an_unknown_ticket_is_404_and_without_a_reason_422(
    app_client: TestClient, people: People
) -> None:
    headers = people.supervisor.headers
    url = "/api/tickets/T20991231-0001/legal-hold"
    assert app_client.post(url, json={"reason": "x"}, headers=headers).status_code == 404
    assert app_client.post(url, json={"reason": ""}, headers=headers).status_code == 422


def test_the_retention_sweep_runs_again_a_day_later(
    app_client: TestClient, redis_client: redis.Redis, clock: FrozenClock
) -> None:
    assert RETENTION.start(redis_client)
    SimpleWorker(["recordings"], connection=redis_client).work(burst=True)
    scheduled = ScheduledJobRegistry("recordings", connection=redis_client)
    (job_id,) = scheduled.get_job_ids()
    due = scheduled.get_scheduled_time(job_id)
    assert 86300 < (due - datetime.now(UTC)).total_seconds() <= 86400
