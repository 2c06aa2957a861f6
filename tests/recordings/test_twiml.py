"""What the app asks Twilio to record, and which recording callbacks it asks for."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from hotline.settings import Settings
from ivr.menu import load_menu
from ivr.twiml import Documents
from routing.twiml import dial

EVENTS = "in-progress completed absent"


def test_agent_legs_are_recorded_dual_channel_from_answer_with_callbacks() -> None:
    verb = ET.fromstring(dial(agent_id=7, contact="client:agent_7", language="zh", ring_timeout=20))
    assert verb.get("record") == "record-from-answer-dual"
    assert verb.get("recordingStatusCallback") == "/twilio/recordings/status"
    assert verb.get("recordingStatusCallbackEvent") == EVENTS


def test_voicemails_are_recorded_with_callbacks(settings: Settings) -> None:
    documents = Documents(
        load_menu(settings.ivr_menu_path),
        hold_music_url=settings.hold_music_url,
        voicemail_max_seconds=120,
    )
    record = ET.fromstring(documents.voicemail("zh")).find("Record")
    assert record is not None
    assert record.get("recordingStatusCallback") == "/twilio/recordings/status"
    assert record.get("recordingStatusCallbackEvent") == EVENTS
