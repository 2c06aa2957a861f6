"""The emulator's recording REST API: media, delete, and pause/resume of Twilio.CURRENT."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from hotline.twilio_gateway import CURRENT_RECORDING, RecordingUnavailable, RestGateway
from simulator.recording import Recording, wav_audio
from simulator.server import EmulatorServer
from tests.simulator.apps import ACCOUNT
from tests.simulator.test_rest import client_for, server  # noqa: F401  (the emulator fixture)


def gateway(server: EmulatorServer) -> RestGateway:  # noqa: F811
    return RestGateway(client_for(server), api_base=server.base_url)


@pytest.fixture
def completed(server: EmulatorServer) -> Iterator[str]:  # noqa: F811
    """A finished two-channel recording of 3 seconds in the emulated account."""
    sid = "RE" + "a" * 32
    assert server.exchange is not None
    server.exchange.recordings[sid] = Recording(
        sid=sid,
        call_sid="CA" + "b" * 32,
        account_sid=ACCOUNT,
        url=f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Recordings/{sid}",
        source="DialVerb",
        channels=2,
        start_time=datetime(2026, 11, 24, tzinfo=UTC),
        started_at=0.0,
        status="completed",
        duration=3,
    )
    yield sid


def test_the_media_is_a_wav_of_the_recordings_length(
    server: EmulatorServer,  # noqa: F811
    completed: str,
) -> None:
    assert server.exchange is not None
    into = io.BytesIO()
    download = gateway(server).download_recording(
        media_url=server.exchange.recordings[completed].url, into=into
    )
    assert download.content_type == "audio/x-wav" and download.declared_length == 44 + 3 * 32000
    assert hashlib.sha256(into.getvalue()).digest() == hashlib.sha256(wav_audio(3, 2)).digest()


def test_the_media_needs_the_accounts_credentials(
    server: EmulatorServer,  # noqa: F811
    completed: str,
) -> None:
    assert server.exchange is not None
    wrong = RestGateway(client_for(server, token="wrong"), api_base=server.base_url)
    with pytest.raises(RecordingUnavailable, match="401"):
        wrong.download_recording(
            media_url=server.exchange.recordings[completed].url, into=io.BytesIO()
        )


def test_a_deleted_recording_is_gone(server: EmulatorServer, completed: str) -> None:  # noqa: F811
    assert server.exchange is not None
    recording = server.exchange.recordings[completed]
    gateway(server).download_recording(media_url=recording.url, into=io.BytesIO())
    assert recording.held_bytes > 0
    gateway(server).delete_recording(recording_sid=completed)
    # Its audio goes with it: a long load run does not keep every call's WAV.
    assert recording.held_bytes == 0
    gateway(server).delete_recording(recording_sid=completed)  # again: no error
    with pytest.raises(RecordingUnavailable, match="404"):
        gateway(server).download_recording(
            media_url=server.exchange.recordings[completed].url, into=io.BytesIO()
        )


def test_pausing_with_no_recording_running_is_404(server: EmulatorServer) -> None:  # noqa: F811
    client: Client = client_for(server)
    with pytest.raises(TwilioRestException) as refused:
        client.calls("CA" + "c" * 32).recordings(CURRENT_RECORDING).update(status="paused")
    assert refused.value.status == 404
