"""SMS: messages the app sends (with status callbacks) and texts virtual phones send in."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from simulator.signing import new_sid
from simulator.transcript import Event

STOP_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "TD", "退订"})
START_WORDS = frozenset({"START", "YES", "UNSTOP"})
HELP_WORDS = frozenset({"HELP", "INFO"})
DELIVERY_STEPS = ("queued", "sent", "delivered")


@dataclass
class Message:
    sid: str
    account_sid: str
    to: str
    from_: str
    body: str
    direction: str
    date_created: datetime
    status: str = "queued"
    status_callback: str | None = None
    error_code: int | None = None
    events: list[Event] = field(default_factory=list)

    @classmethod
    def outbound(
        cls,
        *,
        account_sid: str,
        to: str,
        from_: str,
        body: str,
        now: datetime,
        status_callback: str | None,
    ) -> Message:
        return cls(
            new_sid("SM"),
            account_sid,
            to,
            from_,
            body,
            "outbound-api",
            now,
            status_callback=status_callback,
        )

    def status_params(self, status: str) -> dict[str, str]:
        return {
            "MessageSid": self.sid,
            "SmsSid": self.sid,
            "AccountSid": self.account_sid,
            "From": self.from_,
            "To": self.to,
            "MessageStatus": status,
            "SmsStatus": status,
            "ApiVersion": "2010-04-01",
        }


def opt_out_type(body: str) -> str | None:
    """Twilio's keyword handling: the OptOutType it adds to an inbound message."""
    word = body.strip().upper()
    if word in STOP_WORDS:
        return "STOP"
    if word in START_WORDS:
        return "START"
    if word in HELP_WORDS:
        return "HELP"
    return None


def inbound_params(*, sid: str, account_sid: str, from_: str, to: str, body: str) -> dict[str, str]:
    params = {
        "MessageSid": sid,
        "SmsSid": sid,
        "SmsMessageSid": sid,
        "AccountSid": account_sid,
        "From": from_,
        "To": to,
        "Body": body,
        "NumMedia": "0",
        "NumSegments": "1",
        "SmsStatus": "received",
        "ApiVersion": "2010-04-01",
    }
    kind = opt_out_type(body)
    if kind is not None:
        params["OptOutType"] = kind
    return params


# Given a message the app sent, what the virtual phone texts back (None: no reply).
SmsReplier = Callable[[Message], str | None]


def reply_messages(twiml: str) -> list[str]:
    """The texts of the <Message> verbs in an app's answer to an inbound SMS."""
    try:
        root = ET.fromstring(twiml.strip())
    except ET.ParseError:
        return []
    texts = []
    for element in root.iter("Message"):
        body = element.find("Body")
        texts.append("".join((body if body is not None else element).itertext()).strip())
    return texts
