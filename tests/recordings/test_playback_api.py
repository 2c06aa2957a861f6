"""Playback: supervisors and the agent who took the call; ranges; every access on record."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from hotline.clock import FrozenClock
from hotline.settings import Settings
from recordings.models import Recording, RecordingAccess
from tests.recordings.stored import stored_recording
from tests.routing.staff import People, add_people


@pytest.fixture
def people(engine: Engine, clock: FrozenClock) -> People:
    return add_people(engine, clock)


@pytest.fixture
def stored(
    engine: Engine, settings: Settings, clock: FrozenClock, people: People
) -> tuple[Recording, bytes]:
    return stored_recording(engine, settings, at=clock.now(), agent_id=people.me.agent_id)


def audio_url(recording: Recording) -> str:
    return f"/api/recordings/{recording.id}/audio"


@pytest.mark.parametrize(
    ("who", "status"),
    [("me", 200), ("supervisor", 200), ("admin", 200), ("other", 403), ("nobody", 401)],
)
def test_who_may_listen(
    app_client: TestClient,
    people: People,
    stored: tuple[Recording, bytes],
    who: str,
    status: int,
) -> None:
    headers = {} if who == "nobody" else getattr(people, who).headers
    response = app_client.get(audio_url(stored[0]), headers=headers)
    assert response.status_code == status
    if status == 200:
        assert response.content == stored[1]
    else:
        assert response.json()["error"] in ("forbidden", "unauthorized")


@pytest.mark.parametrize(
    ("who", "status"),
    [("me", 200), ("supervisor", 200), ("other", 403), ("nobody", 401)],
)
def test_who_may_read_the_metadata(
    app_client: TestClient,
    people: People,
    stored: tuple[Recording, bytes],
    who: str,
    status: int,
) -> None:
    headers = {} if who == "nobody" else getattr(people, who).headers
    response = app_client.get(f"/api/recordings/{stored[0].id}", headers=headers)
    assert response.status_code == status
    if status == 200:
        body = response.json()
        assert body["agent_id"] == people.me.agent_id and body["size_bytes"] == len(stored[1])
        assert "storage_key" not in body and "media_url" not in body


@pytest.mark.parametrize(
    ("header", "first", "last"),
    [("bytes=0-0", 0, 0), ("bytes=10-", 10, None), ("bytes=-100", -100, None)],
)
def test_ranges_answer_206_with_the_bytes_asked_for(
    app_client: TestClient,
    people: People,
    stored: tuple[Recording, bytes],
    header: str,
    first: int,
    last: int | None,
) -> None:
    recording, audio = stored
    response = app_client.get(audio_url(recording), headers={**people.me.headers, "Range": header})
    expected = audio[first : (last + 1 if last is not None else None)]
    assert response.status_code == 206 and response.content == expected
    assert response.headers["content-length"] == str(len(expected))
    assert response.headers["content-range"].endswith(f"/{len(audio)}")


@pytest.mark.parametrize("header", ["bytes=999999999-", "bytes=5-2", "lines=1-2", "bytes=0-1,4-5"])
def test_bad_ranges_answer_416_with_the_size(
    app_client: TestClient, people: People, stored: tuple[Recording, bytes], header: str
) -> None:
    recording, audio = stored
    response = app_client.get(audio_url(recording), headers={**people.me.headers, "Range": header})
    assert response.status_code == 416
    assert response.headers["content-range"] == f"bytes */{len(audio)}"


def test_every_access_is_on_record_refusals_included(
    app_client: TestClient, engine: Engine, people: People, stored: tuple[Recording, bytes]
) -> None:
    recording = stored[0]
    app_client.get(audio_url(recording), headers={**people.me.headers, "Range": "bytes=0-9"})
    app_client.get(audio_url(recording), headers=people.other.headers)
    app_client.get(f"/api/recordings/{recording.id}", headers=people.supervisor.headers)
    with Session(engine) as session:
        rows = session.exec(select(RecordingAccess).order_by(col(RecordingAccess.id))).all()
    assert [(r.actor, r.what, r.byte_range, r.status_code) for r in rows] == [
        (f"agent:{people.me.agent_id}", "audio", "bytes=0-9", 206),
        (f"agent:{people.other.agent_id}", "audio", None, 403),
        (f"agent:{people.supervisor.agent_id}", "metadata", None, 200),
    ]
    assert all(r.client_address for r in rows)
    audit = app_client.get("/api/audit?object_type=recording", headers=people.admin.headers)
    assert {row["action"] for row in audit.json()} == {"recording.audio", "recording.metadata"}
    assert audit.headers["X-Total-Count"] == "3"


@pytest.mark.parametrize(
    ("who", "status"), [("admin", 200), ("supervisor", 403), ("me", 403), ("nobody", 401)]
)
def test_only_admins_read_the_access_log(
    app_client: TestClient,
    people: People,
    stored: tuple[Recording, bytes],
    who: str,
    status: int,
) -> None:
    recording = stored[0]
    app_client.get(audio_url(recording), headers=people.me.headers)
    headers = {} if who == "nobody" else getattr(people, who).headers
    response = app_client.get(f"/api/recordings/{recording.id}/accesses", headers=headers)
    assert response.status_code == status
    if status == 200:
        (access,) = response.json()
        assert access["actor"] == f"agent:{people.me.agent_id}" and access["status_code"] == 200


def test_an_unknown_recording_is_404(app_client: TestClient, people: People) -> None:
    response = app_client.get("/api/recordings/999/audio", headers=people.supervisor.headers)
    assert response.status_code == 404 and response.json()["error"] == "not_found"


def test_audio_not_stored_yet_is_409(
    app_client: TestClient, engine: Engine, people: People, stored: tuple[Recording, bytes]
) -> None:
    with Session(engine) as session:
        row = session.get(Recording, stored[0].id)
        assert row is not None
        row.storage_key, row.size_bytes = None, None
        session.add(row)
        session.commit()
    response = app_client.get(audio_url(stored[0]), headers=people.supervisor.headers)
    assert response.status_code == 409
