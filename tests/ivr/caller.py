"""A caller on a signed Twilio line into the app, for journey tests."""

from __future__ import annotations

import uuid
from email.utils import format_datetime

from hotline.clock import FrozenClock
from tests.conftest import Twilio, call_params
from tests.twiml import Answer


class Caller:
    def __init__(self, twilio: Twilio, clock: FrozenClock, number: str = "+8613800138000") -> None:
        self.twilio = twilio
        self.clock = clock
        self.number = number
        self.sid = "CA" + uuid.uuid4().hex
        self.last: Answer | None = None
        self._sequence = 0

    def _post(self, path: str, **extra: str) -> Answer:
        response = self.twilio.post(path, call_params(self.sid, self.number, **extra))
        self.last = Answer.of(response)
        return self.last

    def dial(self) -> Answer:
        return self._post("/twilio/voice/incoming")

    def press(self, digits: str) -> Answer:
        assert self.last is not None
        self.clock.advance(3)
        return self._post(self.last.next_step_path(), Digits=digits)

    def say(self, words: str) -> Answer:
        assert self.last is not None
        self.clock.advance(3)
        return self._post(self.last.next_step_path(), SpeechResult=words, Confidence="0.91")

    def stay_silent(self) -> Answer:
        """No input: Twilio skips the action and follows the Redirect after the Gather."""
        assert self.last is not None
        self.clock.advance(6)
        return self._post(self.last.next_step_path())

    def leave_message(self, seconds: int = 12) -> Answer:
        assert self.last is not None and self.last.record() is not None
        record = self.last.record()
        assert record is not None
        self.clock.advance(seconds)
        self.recording_sid = "RE" + uuid.uuid4().hex
        return self._post(
            record.get("action") or "",
            RecordingSid=self.recording_sid,
            RecordingUrl=f"https://api.twilio.com/2010-04-01/Accounts/AC/Recordings/{self.recording_sid}",
            RecordingDuration=str(seconds),
            Digits="#",
        )

    def status(self, status: str, *, duration: int | None = None) -> None:
        extra = {
            "CallStatus": status,
            "SequenceNumber": str(self._sequence),
            "CallbackSource": "call-progress-events",
            "Timestamp": format_datetime(self.clock.now(), usegmt=True),
        }
        if duration is not None:
            extra["CallDuration"] = str(duration)
        self._sequence += 1
        response = self.twilio.post(
            "/twilio/voice/status", call_params(self.sid, self.number, **extra)
        )
        assert response.status_code == 200

    def hang_up(self, after: int = 5, duration: int = 60) -> None:
        self.clock.advance(after)
        self.status("completed", duration=duration)
        self.twilio.run_jobs()
