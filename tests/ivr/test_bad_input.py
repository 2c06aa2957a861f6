"""Bad input on voice routes: 403 for forged requests, valid TwiML for everything else."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func
from sqlmodel import Session, select

from crm.models import CallLog
from tests.conftest import Twilio, call_params

VOICE_PATHS = [
    "/twilio/voice/incoming",
    "/twilio/voice/gather?step=1",
    "/twilio/voice/gather?step=abc",
    "/twilio/voice/wait?lang=xx",
    "/twilio/voice/queue-result",
    "/twilio/voice/voicemail?lang=en",
    "/twilio/voice/status",
    "/twilio/recordings/status",
    "/twilio/sms/incoming",
    "/twilio/sms/status",
]
# Only Play, Say, Pause, Hangup, Redirect, Leave and Gather are allowed in a waitUrl document.
WAIT_VERBS = {"Say", "Play", "Pause", "Hangup", "Redirect", "Leave", "Gather"}


def assert_twiml(response: object) -> ET.Element:
    status = response.status_code
    text = response.text
    assert status == 200, text
    assert text.startswith("<?xml")
    root = ET.fromstring(text)
    assert root.tag == "Response"
    return root


@pytest.mark.parametrize("path", VOICE_PATHS)
def test_missing_signature_is_refused_and_nothing_is_stored(
    twilio: Twilio, redis_client: redis.Redis, path: str
) -> None:
    keys_before = set(redis_client.keys())
    response = twilio.post(path, call_params("CA" + "b" * 32), signature="")
    assert response.status_code == 403
    assert response.json()["error"] == "forbidden"
    assert set(redis_client.keys()) == keys_before


@pytest.mark.parametrize("path", VOICE_PATHS)
def test_wrong_signature_is_refused_and_nothing_is_stored(
    twilio: Twilio, redis_client: redis.Redis, path: str
) -> None:
    keys_before = set(redis_client.keys())
    params = call_params("CA" + "b" * 32)
    forged = twilio.sign(path, {**params, "From": "+8613000000000"})
    assert twilio.post(path, params, signature=forged).status_code == 403
    assert set(redis_client.keys()) == keys_before


def test_signature_over_another_host_is_refused(twilio: Twilio) -> None:
    params = call_params("CA" + "b" * 32)
    signature = twilio.validator.compute_signature(
        "https://evil.example.com/twilio/voice/incoming", params
    )
    assert twilio.post("/twilio/voice/incoming", params, signature=signature).status_code == 403


def test_oversized_body_is_refused_early(twilio: Twilio) -> None:
    params = call_params("CA" + "b" * 32, SpeechResult="挂" * 40_000)
    assert twilio.post("/twilio/voice/incoming", params).status_code == 413


@pytest.mark.parametrize("speech", ["a" * 10_000, "啊" * 3_400])  # 10 kB either way
def test_ten_kilobyte_speech_gets_valid_twiml(twilio: Twilio, speech: str) -> None:
    sid = "CA" + "c" * 32
    assert_twiml(twilio.post("/twilio/voice/incoming", call_params(sid)))
    root = assert_twiml(
        twilio.post("/twilio/voice/gather?step=1", call_params(sid, SpeechResult=speech))
    )
    assert root.find("Gather") is not None


def test_missing_call_sid_still_gets_a_safe_path(twilio: Twilio) -> None:
    params = call_params("")
    del params["CallSid"]
    root = assert_twiml(twilio.post("/twilio/voice/incoming", params))
    assert root.find("Enqueue") is not None


def test_redis_down_gives_the_fallback_queue(twilio: Twilio) -> None:
    app = twilio.client.app
    store = app.state.ivr.store  # type: ignore[attr-defined]

    async def broken(*args: object, **kwargs: object) -> None:
        raise redis.ConnectionError("Redis is down")

    store.start = broken
    root = assert_twiml(twilio.post("/twilio/voice/incoming", call_params("CA" + "d" * 32)))
    assert root.find("Enqueue") is not None and root.find("Enqueue").text == "general"  # type: ignore[union-attr]


fields = st.fixed_dictionaries(
    {},
    optional={
        "CallSid": st.one_of(st.just("CA" + "e" * 32), st.text(max_size=40)),
        "From": st.one_of(st.just("+8613800138000"), st.text(max_size=30), st.just("anonymous")),
        "To": st.text(max_size=20),
        "Digits": st.one_of(
            st.sampled_from(["1", "9", "*", "#", "12", "00000000000000000"]), st.text(max_size=30)
        ),
        "SpeechResult": st.text(max_size=300),
        "Confidence": st.text(max_size=10),
        "QueuePosition": st.one_of(st.integers(-5, 10**9).map(str), st.text(max_size=10)),
        "QueueResult": st.text(max_size=30),
        "QueueTime": st.text(max_size=10),
        "CallStatus": st.sampled_from(
            ["ringing", "in-progress", "completed", "busy", "nonsense", ""]
        ),
        "SequenceNumber": st.text(max_size=5),
        "CallDuration": st.text(max_size=8),
        "Timestamp": st.text(max_size=40),
        "RecordingSid": st.text(max_size=40),
        "RecordingDuration": st.text(max_size=8),
    },
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(path=st.sampled_from(VOICE_PATHS), params=fields)
def test_any_signed_voice_request_gets_valid_twiml(
    twilio: Twilio, engine: Engine, path: str, params: dict[str, str]
) -> None:
    clean = {key: value.replace("\x00", "") for key, value in params.items()}
    root = assert_twiml(twilio.post(path, clean))
    if path.startswith("/twilio/voice/wait"):
        assert {child.tag for child in root} <= WAIT_VERBS
    twilio.run_jobs()
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(CallLog)).one() <= 200
