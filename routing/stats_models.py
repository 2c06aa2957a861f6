"""The live figures' API schemas: what `GET /api/supervisor/stats` and the stream send."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field


class Csat(BaseModel):
    """SMS survey scores over a period (README "Surveys")."""

    responses: int = Field(description="survey scores received")
    mean_score: float | None = Field(description="average score, 1-5")
    csat: float | None = Field(description="share of scores 4-5")


class Figures(BaseModel):
    """Cumulative figures over a period (today, or the last N minutes); the README's
    "Live figures" gives the definitions. Ratios and averages are null with nothing to divide."""

    offered: int = Field(description="calls that entered a queue, short abandons included")
    answered: int
    abandoned: int = Field(description="callers who hung up waiting, short abandons excluded")
    short_abandons: int = Field(description="callers who hung up within 5 s of entering")
    answered_within_sl: int
    abandoned_after_sl: int
    handled: int = Field(description="calls whose talk ended")
    missed_offers: int
    service_level: float | None = Field(
        description="answered within T / (answered + abandoned after T)"
    )
    asa_seconds: float | None = Field(description="queue wait of answered calls / answered")
    aht_seconds: float | None = Field(description="(talk + wrap-up) / handled")
    abandon_rate: float | None = Field(
        description="abandoned / offered, both without short abandons"
    )
    occupancy: float | None = Field(
        description="(talk + wrap-up) / (talk + wrap-up + available idle); overall only"
    )
    longest_wait_seconds: float = Field(description="of calls answered or abandoned")
    talk_seconds: float
    wrap_up_seconds: float
    callbacks_scheduled: int | None = Field(
        default=None, description="callbacks owed to customers, recorded; overall only"
    )
    callbacks_placed: int | None = Field(
        description="callbacks whose (latest) call was placed; overall only"
    )
    callbacks_connected: int | None = Field(
        default=None, description="callbacks a person answered; overall only"
    )
    callbacks_failed: int | None = Field(
        default=None, description="callbacks given up: retries exhausted or number refused"
    )
    csat: Csat | None = Field(default=None, description="survey scores; overall only")


class LiveFigures(BaseModel):
    """Now and cumulative, for one queue or for all of them."""

    waiting: int
    longest_wait_seconds: float = Field(description="of the callers waiting now")
    expected_wait_seconds: float | None = Field(
        description="(waiting + 1) × AHT / agents staffed; 0 with a free agent and nobody waiting"
    )
    agents: dict[str, int] = Field(description="agents by state (with the queue's skill)")
    callbacks_due: int | None = Field(
        description="callbacks scheduled whose time has come, not yet placed; overall only"
    )
    callbacks_holding: int | None = Field(
        default=None,
        description="callers waiting in a queue to be called back (virtual hold); overall only",
    )
    service_level_target: float = Field(
        description="the service level to keep: the queue's own (routing file), else "
        "HOTLINE_SERVICE_LEVEL_TARGET; the wallboard colours the figure against it"
    )
    today: Figures
    last_15_minutes: Figures
    last_30_minutes: Figures
    last_60_minutes: Figures


class QueueFigures(LiveFigures):
    queue: str


class AgentFigures(BaseModel):
    """One agent now and today."""

    agent_id: int
    state: str
    since: datetime | None
    reason: str | None
    skills: dict[str, int]
    handled: int
    talk_seconds: float
    wrap_up_seconds: float
    missed_offers: int
    aht_seconds: float | None


class SupervisorStats(BaseModel):
    generated_at: datetime
    day: date = Field(description="today in the bank's time zone")
    service_level_seconds: int
    queues: list[QueueFigures]
    overall: LiveFigures
    agents: list[AgentFigures]


class HistoryFigures(BaseModel):
    """One queue (or all of them) at one moment of the history."""

    waiting: int = Field(description="callers waiting at that moment")
    longest_wait_seconds: float = Field(description="of the callers waiting at that moment")
    service_level: float | None = Field(description="SL over the 15 minutes up to that moment")
    offered: int = Field(description="calls offered in the minute before that moment")
    answered: int = Field(description="calls answered in the minute before that moment")
    abandoned: int = Field(description="calls abandoned in the minute before (short ones apart)")


class HistoryPoint(BaseModel):
    at: datetime = Field(description="the start of the minute sampled")
    overall: HistoryFigures
    queues: dict[str, HistoryFigures]


class History(BaseModel):
    interval_seconds: int = Field(description="one point a minute at most")
    points: list[HistoryPoint] = Field(description="oldest first; unsampled minutes left out")
