"""The `<Dial>` that connects a caller to the agent the router chose."""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

DIAL_RESULT_URL = "/twilio/voice/dial-result"
AGENT_LEG_URL = "/twilio/voice/agent-leg"
CONNECT_URL = "/twilio/voice/connect"
RECORDING_STATUS_URL = "/twilio/recordings/status"


def _attrs(**values: str | int) -> str:
    return "".join(f" {name}={quoteattr(str(value))}" for name, value in values.items())


def dial(*, agent_id: int, contact: str, language: str, ring_timeout: int) -> str:
    """Ring the agent; record both sides from answer; report the leg's answer to us."""
    kind, _, target = contact.partition(":")
    leg = _attrs(
        statusCallback=f"{AGENT_LEG_URL}?agent={agent_id}",
        statusCallbackEvent="answered completed",
        statusCallbackMethod="POST",
    )
    noun = "Number" if kind == "number" else "Client"
    target = target or f"agent_{agent_id}"
    attrs = _attrs(
        action=f"{DIAL_RESULT_URL}?agent={agent_id}&lang={language}",
        method="POST",
        timeout=ring_timeout,
        answerOnBridge="true",
        record="record-from-answer-dual",
        recordingStatusCallback=RECORDING_STATUS_URL,
        recordingStatusCallbackMethod="POST",
        # absent (nothing heard) and failed reach us too, with Twilio's ErrorCode.
        recordingStatusCallbackEvent="in-progress completed absent",
    )
    return f"<Dial{attrs}><{noun}{leg}>{escape(target)}</{noun}></Dial>"
