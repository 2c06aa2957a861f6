"""Recording status callbacks: linked to the call in either order, stored once."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlmodel import Session, select

from crm.models import Callback, CallDisposition, CallLog, EventKind, TicketEvent
from hotline.clock import FrozenClock
from recordings.models import Recording
from tests.conftest import TEST_ACCOUNT, Twilio
from tests.ivr.caller import Caller

NIGHT = datetime(2026, 11, 24, 14, 30, tzinfo=UTC)  # 22:30 in Shanghai


def recording_callback(
    twilio: Twilio, caller: Caller, status: str = "completed", **extra: str
) -> None:
    params = {
        "AccountSid": TEST_ACCOUNT,
        "CallSid": caller.sid,
        "RecordingSid": caller.recording_sid,
        "RecordingUrl": f"https://api.twilio.com/2010-04-01/Accounts/{TEST_ACCOUNT}/Recordings/{caller.recording_sid}",
        "RecordingStatus": status,
        "RecordingDuration": "20",
        "RecordingChannels": "1",
        "RecordingSource": "RecordVerb",
        **extra,
    }
    assert twilio.post("/twilio/recordings/status", params).status_code == 200


def voicemail_call(twilio: Twilio, clock: FrozenClock) -> Caller:
    clock.set(NIGHT)
    caller = Caller(twilio, clock, "+8613612345678")
    caller.dial()
    caller.stay_silent()
    caller.leave_message(seconds=20)
    return caller


def test_recording_before_the_call_is_logged(
    twilio: Twilio, clock: FrozenClock, engine: Engine
) -> None:
    caller = voicemail_call(twilio, clock)
    recording_callback(twilio, caller)
    recording_callback(twilio, caller)  # a repeat
    twilio.run_jobs()
    caller.hang_up()
    with Session(engine) as session:
        recording = session.exec(select(Recording)).one()
        assert recording.status == "completed" and recording.duration_seconds == 20
        log = session.exec(select(CallLog)).one()
        assert log.disposition == CallDisposition.voicemail


def test_recording_after_an_after_hours_call_was_logged_makes_it_a_voicemail(
    twilio: Twilio, clock: FrozenClock, engine: Engine
) -> None:
    clock.set(NIGHT)
    caller = Caller(twilio, clock, "+8613612345678")
    caller.dial()
    caller.stay_silent()
    # The caller hung up while recording: no Record action reached us, only the callbacks.
    caller.recording_sid = "RE" + "9" * 32
    caller.hang_up()
    with Session(engine) as session:
        assert session.exec(select(CallLog)).one().disposition == CallDisposition.after_hours
    recording_callback(twilio, caller)
    twilio.run_jobs()
    with Session(engine) as session:
        log = session.exec(select(CallLog)).one()
        assert log.disposition == CallDisposition.voicemail
        assert session.exec(select(Callback)).one().reason == "voicemail"
        kinds = [event.kind for event in session.exec(select(TicketEvent)).all()]
        assert kinds.count(EventKind.voicemail) == 1


def test_failed_recording_keeps_twilios_error_code(
    twilio: Twilio, clock: FrozenClock, engine: Engine
) -> None:
    caller = voicemail_call(twilio, clock)
    recording_callback(twilio, caller, status="failed", ErrorCode="13617")
    twilio.run_jobs()
    with Session(engine) as session:
        recording = session.exec(select(Recording)).one()
        assert recording.status == "failed" and recording.error_code == "13617"


def test_absent_recording_keeps_twilios_error_code_and_reaches_the_ticket(
    twilio: Twilio, clock: FrozenClock, engine: Engine
) -> None:
    caller = voicemail_call(twilio, clock)
    caller.hang_up()
    recording_callback(twilio, caller, status="absent", ErrorCode="13617")
    twilio.run_jobs()
    with Session(engine) as session:
        recording = session.exec(select(Recording)).one()
        assert recording.status == "absent" and recording.error_code == "13617"
        assert recording.stored_at is None  # nothing to fetch
        event = session.exec(
            select(TicketEvent).where(TicketEvent.kind == EventKind.recording)
        ).one()
        assert event.data["status"] == "absent" and event.data["error_code"] == "13617"


def test_a_late_in_progress_after_completed_changes_nothing(
    twilio: Twilio, clock: FrozenClock, engine: Engine
) -> None:
    caller = voicemail_call(twilio, clock)
    recording_callback(twilio, caller, status="completed")
    twilio.run_jobs()
    recording_callback(twilio, caller, status="in-progress", RecordingDuration="")
    twilio.run_jobs()
    with Session(engine) as session:
        recording = session.exec(select(Recording)).one()
        assert recording.status == "completed" and recording.duration_seconds == 20


def test_a_recording_reaches_the_timeline_once_whatever_the_order(
    twilio: Twilio, clock: FrozenClock, engine: Engine
) -> None:
    caller = voicemail_call(twilio, clock)
    recording_callback(twilio, caller, status="completed")
    twilio.run_jobs()
    caller.hang_up()  # the call is logged after the recording arrived
    recording_callback(twilio, caller, status="completed")  # a repeat after the log
    twilio.run_jobs()
    with Session(engine) as session:
        events = session.exec(
            select(TicketEvent).where(TicketEvent.kind == EventKind.recording)
        ).all()
        assert [event.data["recording_sid"] for event in events] == [caller.recording_sid]


def test_without_credentials_a_download_is_only_attempted(
    twilio: Twilio, clock: FrozenClock, engine: Engine
) -> None:
    # The suite's gateway is the outbox: the job fails, is retried, and nothing is stored.
    caller = voicemail_call(twilio, clock)
    recording_callback(twilio, caller, status="completed")
    twilio.run_jobs()
    with Session(engine) as session:
        recording = session.exec(select(Recording)).one()
        assert recording.stored_at is None and recording.download_attempts >= 1
