"""Arithmetic on the bank's business hours: adding working time, measuring it between two
moments. The SLA clocks run on it; `BusinessCalendar` only says when the bank is open."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta

from hotline.business_hours import BusinessCalendar, BusinessHoursError

# A clock that cannot find enough opening hours within this many days is misconfigured.
_HORIZON_DAYS = 800


def _day_intervals(calendar: BusinessCalendar, day: date) -> list[tuple[datetime, datetime]]:
    if day in calendar.holidays:
        return []
    intervals = []
    for start, end in calendar.hours.get(day.weekday(), ()):
        opens = datetime.combine(day, start, tzinfo=calendar.zone)
        closes = (
            datetime.combine(day + timedelta(days=1), time(), tzinfo=calendar.zone)
            if end == time.max
            else datetime.combine(day, end, tzinfo=calendar.zone)
        )
        intervals.append((opens.astimezone(UTC), closes.astimezone(UTC)))
    return intervals


def _open_intervals(
    calendar: BusinessCalendar, start: datetime
) -> Iterator[tuple[datetime, datetime]]:
    """The bank's opening intervals (UTC) from the day of `start` on, in order."""
    first = start.astimezone(calendar.zone).date()
    for offset in range(_HORIZON_DAYS):
        yield from _day_intervals(calendar, first + timedelta(days=offset))


def add_business_seconds(calendar: BusinessCalendar, start: datetime, seconds: float) -> datetime:
    """The moment `seconds` of opening time after `start` (which may fall while closed)."""
    if calendar.always_open or seconds <= 0:
        return start + timedelta(seconds=max(seconds, 0))
    remaining = timedelta(seconds=seconds)
    for opens, closes in _open_intervals(calendar, start):
        begin = max(opens, start)
        if begin >= closes:
            continue
        if remaining <= closes - begin:
            return begin + remaining
        remaining -= closes - begin
    raise BusinessHoursError(f"not enough opening hours within {_HORIZON_DAYS} days")


def business_seconds_between(calendar: BusinessCalendar, start: datetime, end: datetime) -> float:
    """Opening time between two moments, in seconds (0 when `end` is not after `start`)."""
    if end <= start:
        return 0.0
    if calendar.always_open:
        return (end - start).total_seconds()
    total = 0.0
    for opens, closes in _open_intervals(calendar, start):
        if opens >= end:
            break
        overlap = min(closes, end) - max(opens, start)
        total += max(overlap.total_seconds(), 0.0)
    return total
