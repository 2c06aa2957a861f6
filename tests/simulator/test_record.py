from __future__ import annotations

import pytest

from simulator.callers import record, silence
from tests.simulator.apps import BANK, CALLER, TwimlApp, emulate, twiml

VOICEMAIL = twiml(
    '<Say>leave a message</Say><Record action="/recorded" maxLength="120" finishOnKey="#"'
    ' recordingStatusCallback="/recording" recordingStatusCallbackEvent="in-progress completed"/>'
    "<Say>we got nothing</Say>"
)


def voicemail_app() -> TwimlApp:
    return TwimlApp(
        {"/voice": lambda p: VOICEMAIL, "/recorded": lambda p: twiml("<Say>thanks</Say>")}
    )


@pytest.mark.anyio
async def test_a_recording_ends_with_the_key_and_reports_twice() -> None:
    app = voicemail_app()
    async with emulate(app) as exchange:
        call = await exchange.call_in(from_=CALLER, to=BANK, script=[record(25)])
    action = app.to("/recorded")[0]
    assert action["Digits"] == "#" and action["RecordingSid"].startswith("RE")
    assert int(action["RecordingDuration"]) >= 24
    assert action["RecordingUrl"].endswith("/Recordings/" + action["RecordingSid"])
    statuses = [p["RecordingStatus"] for p in app.to("/recording")]
    assert statuses == ["in-progress", "completed"]
    completed = app.to("/recording")[1]
    assert completed["RecordingSource"] == "RecordVerb" and completed["RecordingChannels"] == "1"
    assert completed["CallSid"] == call.call_sid and completed["RecordingStartTime"]
    assert call.said == ["leave a message", "thanks"]


@pytest.mark.anyio
async def test_a_silent_caller_records_nothing_and_the_next_verb_runs() -> None:
    app = voicemail_app()
    async with emulate(app) as exchange:
        call = await exchange.call_in(from_=CALLER, to=BANK, script=[silence()])
    assert app.to("/recorded") == [] and app.to("/recording") == []
    assert call.said == ["leave a message", "we got nothing"]


@pytest.mark.anyio
async def test_hanging_up_ends_the_recording_with_digits_hangup() -> None:
    app = voicemail_app()
    async with emulate(app) as exchange:
        call = await exchange.call_in(from_=CALLER, to=BANK, script=[record(10, then="hangup")])
    assert app.to("/recorded")[0]["Digits"] == "hangup"
    assert app.to("/recording")[-1]["RecordingStatus"] == "completed"
    assert call.outcome == "caller-hangup" and "thanks" not in call.said
