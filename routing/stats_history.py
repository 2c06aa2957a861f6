"""The live figures' history: each bank-local day's counters, copied to `daily_figures`.

The router's day counters live a week in Redis. The heartbeat copies today's and yesterday's
once a minute (yesterday's too, so the last minute before midnight is never lost); a row is
rewritten until its day is over, so the table always holds the latest counts.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlmodel import Session, select

from routing.models import DailyFigures
from routing.stats import StatsReader
from routing.stats_figures import total

OVERALL = "*"


def save_day(*, session: Session, reader: StatsReader, day: date, now: datetime) -> int:
    """Write one day's rows (each queue and "*"); how many were written."""
    queues, time_in_states = reader.day_counters(day)
    rows = {**queues, OVERALL: total(queues.values())}
    existing = {
        row.queue: row
        for row in session.exec(select(DailyFigures).where(DailyFigures.day == day)).all()
    }
    for queue, c in rows.items():
        row = existing.get(queue) or DailyFigures(day=day, queue=queue, updated_at=now)
        row.offered, row.answered = int(c.offered), int(c.answered)
        row.answered_within_sl = int(c.answered_in_sl)
        row.abandoned, row.abandoned_after_sl = int(c.abandoned), int(c.abandoned_after_sl)
        row.short_abandons, row.handled = int(c.short_abandons), int(c.handled)
        row.missed_offers = int(c.missed_offers)
        row.wait_answered_seconds, row.longest_wait_seconds = c.wait_answered, c.longest_wait
        row.talk_seconds, row.wrap_up_seconds = c.talk, c.wrap_up
        if queue == OVERALL:
            row.available_seconds = time_in_states.available
            row.busy_seconds = time_in_states.busy
            row.wrap_up_state_seconds = time_in_states.wrap_up
        row.updated_at = now
        session.add(row)
    session.flush()
    return len(rows)


def save_recent_days(*, session: Session, reader: StatsReader, now: datetime) -> int:
    """Today's and yesterday's rows, bank-local."""
    today = reader.periods(now).day
    return sum(
        save_day(session=session, reader=reader, day=day, now=now)
        for day in (today - timedelta(days=1), today)
    )
