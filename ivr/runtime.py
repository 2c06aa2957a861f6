"""What the IVR holds for the life of a process, and what one applied step is."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from hotline.business_hours import BusinessCalendar
from hotline.clock import Clock
from ivr.menu import Menu
from ivr.session import SessionStore
from ivr.twiml import Documents
from routing.dispatch import Dispatch


@dataclass(frozen=True)
class Ivr:
    """Everything the IVR needs, built once per process."""

    menu: Menu
    docs: Documents
    store: SessionStore
    calendar: BusinessCalendar
    clock: Clock
    engine: Engine
    region: str
    dispatch: Dispatch

    def language(self, requested: str | None) -> str:
        return requested if requested in self.menu.languages else self.menu.default_language


@dataclass(frozen=True)
class Step:
    """One applied step: the answer and what it changes in the session."""

    answer: str
    fields: dict[str, Any]
