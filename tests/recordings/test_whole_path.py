"""A call answered by an agent, recorded by (emulated) Twilio, fetched, stored and played."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import redis
from sqlalchemy import Engine
from sqlmodel import Session, select

from crm.models import CallLog, EventKind, TicketEvent
from hotline.auth import Role
from hotline.clock import FrozenClock
from hotline.settings import Settings
from recordings.jobs import download_recording, enqueue_download
from recordings.models import Recording
from routing import service as routing
from simulator.callers import press
from tests.recordings.emulated import EmulatedHotline, emulated_hotline
from tests.recordings.fake_s3 import ACCESS_KEY, BUCKET, REGION, SECRET_KEY, fake_s3
from tests.routing.staff import Staff, add_staff


def answered_call(hotline: EmulatedHotline, agent: Staff, clock: FrozenClock) -> Recording:
    hotline.agent_ready(agent.agent_id, clock.now())
    record = hotline.call([press("1")])
    assert record.errors == []
    hotline.run_jobs()
    with Session(hotline.app.state.services.engine) as session:
        return session.exec(select(Recording)).one()


def test_an_answered_call_is_recorded_stored_and_played_with_ranges(
    settings: Settings, clock: FrozenClock, engine: Engine, redis_client: redis.Redis
) -> None:
    agent = add_staff(engine, clock, name="陈静")
    with emulated_hotline(settings, clock, redis_client) as hotline:
        recording = answered_call(hotline, agent, clock)
        twilio_copy = hotline.exchange.recordings[recording.recording_sid]
        media = twilio_copy.media()
        assert recording.source == "DialVerb" and recording.channels == 2
        assert recording.size_bytes == len(media)
        assert recording.sha256 == hashlib.sha256(media).hexdigest()
        assert recording.storage_key is not None
        stored = Path(settings.recordings_dir) / recording.storage_key
        assert stored.read_bytes() == media
        # Stored and checked here, so Twilio's copy is deleted.
        assert twilio_copy.deleted and recording.deleted_from_twilio_at is not None

        whole = hotline.client.get(f"/api/recordings/{recording.id}/audio", headers=agent.headers)
        assert whole.status_code == 200 and whole.content == media
        assert whole.headers["accept-ranges"] == "bytes"
        part = hotline.client.get(
            f"/api/recordings/{recording.id}/audio",
            headers={**agent.headers, "Range": "bytes=100-199"},
        )
        assert part.status_code == 206 and part.content == media[100:200]
        assert part.headers["content-range"] == f"bytes 100-199/{len(media)}"
    with Session(engine) as session:
        call = session.exec(select(CallLog)).one()
        assert call.agent_id == agent.agent_id
        events = session.exec(
            select(TicketEvent).where(TicketEvent.kind == EventKind.recording)
        ).all()
        assert [event.data["recording_sid"] for event in events] == [recording.recording_sid]
        assert events[0].ticket_id == call.ticket_id


def test_repeated_callbacks_and_jobs_fetch_the_audio_once(
    settings: Settings, clock: FrozenClock, engine: Engine, redis_client: redis.Redis
) -> None:
    agent = add_staff(engine, clock, name="陈静")
    with emulated_hotline(
        settings, clock, redis_client, recordings_delete_from_twilio=False
    ) as hotline:
        recording = answered_call(hotline, agent, clock)
        assert hotline.exchange.media_requests == 1
        assert download_recording(recording.recording_sid) == "stored"
        assert enqueue_download(recording.recording_sid) is False  # one job per recording
        hotline.run_jobs()
        assert hotline.exchange.media_requests == 1


def test_a_download_that_fails_is_retried_until_it_succeeds(
    settings: Settings, clock: FrozenClock, engine: Engine, redis_client: redis.Redis
) -> None:
    agent = add_staff(engine, clock, name="陈静")
    with emulated_hotline(settings, clock, redis_client) as hotline:
        hotline.exchange.media_faults.extend([500, 503])
        recording = answered_call(hotline, agent, clock)
        assert hotline.exchange.media_requests == 3
        assert recording.download_attempts == 3 and recording.stored_at is not None


def test_a_garbled_download_is_refused_and_fetched_again(
    settings: Settings, clock: FrozenClock, engine: Engine, redis_client: redis.Redis
) -> None:
    agent = add_staff(engine, clock, name="陈静")
    with emulated_hotline(settings, clock, redis_client) as hotline:
        hotline.exchange.media_faults.append("corrupt")
        recording = answered_call(hotline, agent, clock)
        media = hotline.exchange.recordings[recording.recording_sid].media()
        assert recording.download_attempts == 2
        assert recording.sha256 == hashlib.sha256(media).hexdigest()


def test_a_download_that_never_succeeds_keeps_twilios_copy(
    settings: Settings, clock: FrozenClock, engine: Engine, redis_client: redis.Redis
) -> None:
    agent = add_staff(engine, clock, name="陈静")
    with emulated_hotline(settings, clock, redis_client) as hotline:
        hotline.exchange.media_faults.extend([500] * 4)
        recording = answered_call(hotline, agent, clock)
        assert recording.stored_at is None and recording.download_attempts == 4
        assert not hotline.exchange.recordings[recording.recording_sid].deleted


def test_twilios_copy_stays_when_the_setting_says_so(
    settings: Settings, clock: FrozenClock, engine: Engine, redis_client: redis.Redis
) -> None:
    agent = add_staff(engine, clock, name="陈静")
    with emulated_hotline(
        settings, clock, redis_client, recordings_delete_from_twilio=False
    ) as hotline:
        recording = answered_call(hotline, agent, clock)
        assert recording.stored_at is not None and recording.deleted_from_twilio_at is None
        assert not hotline.exchange.recordings[recording.recording_sid].deleted


def test_pci_pause_leaves_the_card_details_out_of_the_audio(
    settings: Settings, clock: FrozenClock, engine: Engine, redis_client: redis.Redis
) -> None:
    agent = add_staff(engine, clock, name="陈静")
    supervisor = add_staff(engine, clock, name="赵磊", role=Role.supervisor)
    with emulated_hotline(settings, clock, redis_client, talk_seconds=100) as hotline:
        hotline.agent_ready(agent.agent_id, clock.now())
        running = hotline.start_call([press("1")])
        router = hotline.app.state.sync_router
        deadline = time.monotonic() + 20
        call_sid = ""
        while not call_sid and time.monotonic() < deadline:
            time.sleep(0.05)
            sids = [
                sid for sid, call in hotline.exchange.calls.items() if call.direction == "inbound"
            ]
            if sids and routing.agent_on_call(router=router, call_sid=sids[0]) is not None:
                call_sid = sids[0]
        assert call_sid, "the agent never answered"
        url = f"/api/calls/{call_sid}/recording"
        paused = hotline.client.post(f"{url}/pause", headers=agent.headers)
        assert paused.status_code == 200 and paused.json()["changed"] is True
        again = hotline.client.post(f"{url}/pause", headers=supervisor.headers)
        assert again.status_code == 200 and again.json()["changed"] is False
        time.sleep(40 / 20)  # 40 simulated seconds of card details
        resumed = hotline.client.post(f"{url}/resume", headers=agent.headers)
        assert resumed.status_code == 200 and resumed.json()["recording"] == "in-progress"
        record = running.result(60)
        assert record.errors == []
        hotline.run_jobs()
        with Session(engine) as session:
            recording = session.exec(select(Recording)).one()
        twilio_copy = hotline.exchange.recordings[recording.recording_sid]
        assert twilio_copy.pause_count == 1
        # The paused span is left out of Twilio's audio and duration, and the stored duration is
        # Twilio's; comparing with the 100-s talk time would fail on a loaded machine, where the
        # hang-up lands late on the emulator's fast clock.
        assert twilio_copy.paused_seconds >= 35
        assert recording.duration_seconds == twilio_copy.duration
        assert recording.size_bytes == len(twilio_copy.media())
    with Session(engine) as session:
        events = session.exec(
            select(TicketEvent).where(TicketEvent.kind == EventKind.recording)
        ).all()
        actions = [event.data.get("action") for event in events if "action" in event.data]
        assert actions == ["paused", "resumed"]


def test_recordings_go_to_an_s3_bucket_when_one_is_configured(
    settings: Settings, clock: FrozenClock, engine: Engine, redis_client: redis.Redis
) -> None:
    agent = add_staff(engine, clock, name="陈静")
    with (
        fake_s3() as (endpoint, objects),
        emulated_hotline(
            settings,
            clock,
            redis_client,
            recordings_s3_bucket=BUCKET,
            recordings_s3_endpoint=endpoint,
            recordings_s3_region=REGION,
            recordings_s3_access_key=ACCESS_KEY,
            recordings_s3_secret_key=SECRET_KEY,
        ) as hotline,
    ):
        recording = answered_call(hotline, agent, clock)
        media = hotline.exchange.recordings[recording.recording_sid].media()
        assert recording.storage_key is not None and objects[recording.storage_key] == media
        part = hotline.client.get(
            f"/api/recordings/{recording.id}/audio",
            headers={**agent.headers, "Range": "bytes=0-43"},
        )
        assert part.status_code == 206 and part.content == media[:44]
