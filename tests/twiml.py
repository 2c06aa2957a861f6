"""Reading the app's TwiML answers the way Twilio would."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from httpx2 import Response


@dataclass
class Answer:
    root: ET.Element

    @classmethod
    def of(cls, response: Response) -> Answer:
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith(("text/xml", "application/xml"))
        body = response.text
        assert body.startswith("<?xml"), "no whitespace may come before the XML declaration"
        root = ET.fromstring(body)
        assert root.tag == "Response"
        return cls(root)

    def verbs(self) -> list[str]:
        return [child.tag for child in self.root]

    def said(self) -> str:
        return " ".join(el.text or "" for el in self.root.iter("Say"))

    def says_in(self, language: str) -> list[str]:
        return [el.text or "" for el in self.root.iter("Say") if el.get("language") == language]

    def gather(self) -> ET.Element:
        found = self.root.find("Gather")
        assert found is not None, f"no Gather in {self.verbs()}"
        return found

    def next_step_path(self) -> str:
        """The Gather action (path and query) this answer posts back to."""
        action = self.gather().get("action") or ""
        redirect = self.root.find("Redirect")
        assert redirect is not None and redirect.text == action, "a Gather must end with a Redirect"
        return action

    def step(self) -> int:
        query = parse_qs(urlsplit(self.next_step_path()).query)
        return int(query["step"][0])

    def enqueued(self) -> str | None:
        element = self.root.find("Enqueue")
        return element.text if element is not None else None

    def record(self) -> ET.Element | None:
        return self.root.find("Record")
