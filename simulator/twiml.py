"""TwiML documents as Twilio reads them: parse, check the schema, read typed attributes."""

from __future__ import annotations

import xml.etree.ElementTree as ET

VOICE_VERBS = frozenset(
    {
        "Say", "Play", "Pause", "Gather", "Record", "Dial", "Enqueue", "Leave", "Hangup",
        "Redirect", "Reject", "Connect", "Refer", "Start", "Stop", "Pay", "Prompt", "Echo", "Sms",
    }
)  # fmt: skip
# Nouns and nested verbs Twilio accepts inside a verb; SSML inside Say is free-form.
ALLOWED_CHILDREN: dict[str, frozenset[str]] = {
    "Gather": frozenset({"Say", "Play", "Pause"}),
    "Dial": frozenset(
        {"Client", "Number", "Queue", "Conference", "Sip", "Sim", "Application", "WhatsApp"}
    ),
}
# Twilio refuses anything else in a waitUrl document.
WAIT_VERBS = frozenset({"Play", "Say", "Pause", "Hangup", "Redirect", "Leave", "Gather"})
MAX_DOCUMENT_BYTES = 64 * 1024


class TwimlError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def parse_document(body: bytes) -> ET.Element:
    """The `<Response>` root of a voice document, or TwimlError with Twilio's code."""
    stripped = body.lstrip()
    if stripped != body and stripped.startswith(b"<?xml"):
        raise TwimlError(12100, "whitespace before the XML declaration")
    if not stripped:
        raise TwimlError(12100, "empty document")
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        raise TwimlError(12100, f"document parse failure: {exc}") from exc
    if root.tag != "Response":
        raise TwimlError(12100, f"root element is <{root.tag}>, not <Response>")
    for verb in root:
        if verb.tag not in VOICE_VERBS:
            raise TwimlError(12200, f"schema validation: unknown verb <{verb.tag}>")
        allowed = ALLOWED_CHILDREN.get(verb.tag)
        if allowed is None:
            continue
        for child in verb:
            if child.tag not in allowed:
                raise TwimlError(
                    12200, f"schema validation: <{child.tag}> is not allowed in <{verb.tag}>"
                )
    return root


def text_of(element: ET.Element) -> str:
    """Element text with SSML tags dropped, as the listener hears it."""
    return "".join(element.itertext()).strip()


def attr_int(element: ET.Element, name: str, default: int) -> int:
    raw = element.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        return int(float(raw))
    except ValueError as exc:
        raise TwimlError(12200, f"attribute {name}={raw!r} is not a number") from exc


def attr_bool(element: ET.Element, name: str, default: bool) -> bool:
    raw = element.get(name)
    if raw is None:
        return default
    return raw.strip().lower() == "true"


def attr_method(element: ET.Element, name: str = "method") -> str:
    method = (element.get(name) or "POST").upper()
    if method not in {"GET", "POST"}:
        raise TwimlError(12200, f"attribute {name}={method!r} must be GET or POST")
    return method
