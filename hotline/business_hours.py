"""The bank's opening hours and holidays, in its own time zone.

`HOTLINE_BUSINESS_HOURS` reads like a notice on a branch door:
`mon-fri 08:00-20:00; sat-sun 09:00-17:00`, or `always`. Days not named are closed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_RULE = re.compile(
    r"^(?P<first>[a-z]{3})(?:-(?P<last>[a-z]{3}))?\s+"
    r"(?P<open>\d{1,2}:\d{2})-(?P<close>\d{1,2}:\d{2})$"
)


class BusinessHoursError(ValueError):
    pass


@dataclass(frozen=True)
class BusinessCalendar:
    zone: ZoneInfo
    # weekday (0 = Monday) -> list of (open, close) local times; close may be 24:00 (time.max).
    hours: dict[int, tuple[tuple[time, time], ...]]
    holidays: frozenset[date] = field(default_factory=frozenset)
    always_open: bool = False

    def is_open(self, moment: datetime) -> bool:
        if self.always_open:
            return True
        local = moment.astimezone(self.zone)
        if local.date() in self.holidays:
            return False
        now = local.time()
        return any(start <= now < end for start, end in self.hours.get(local.weekday(), ()))

    def next_opening(self, moment: datetime) -> datetime:
        """The next moment (UTC) at which the bank is open: `moment` itself if open now."""
        if self.is_open(moment):
            return moment.astimezone(UTC)
        local = moment.astimezone(self.zone)
        for offset in range(0, 370):
            day = local.date() + timedelta(days=offset)
            if day in self.holidays:
                continue
            for start, _end in self.hours.get(day.weekday(), ()):
                opening = datetime.combine(day, start, tzinfo=self.zone)
                if opening > local:
                    return opening.astimezone(UTC)
        raise BusinessHoursError("no opening hours within a year")


def _parse_time(text: str) -> time:
    hours, minutes = (int(part) for part in text.split(":"))
    if hours == 24 and minutes == 0:
        return time.max
    if not (0 <= hours < 24 and 0 <= minutes < 60):
        raise BusinessHoursError(f"{text!r} is not a time of day")
    return time(hours, minutes)


def _parse_holidays(spec: str) -> frozenset[date]:
    spec = spec.strip()
    if not spec:
        return frozenset()
    candidate = Path(spec)
    if "," not in spec and not _looks_like_date(spec):
        if not candidate.is_file():
            raise BusinessHoursError(f"holiday file {spec!r} does not exist")
        lines = candidate.read_text(encoding="utf-8").splitlines()
        items = [line.split("#", 1)[0].strip() for line in lines]
    else:
        items = [item.strip() for item in spec.split(",")]
    try:
        return frozenset(date.fromisoformat(item) for item in items if item)
    except ValueError as exc:
        raise BusinessHoursError(f"bad holiday date: {exc}") from exc


def _looks_like_date(text: str) -> bool:
    return bool(re.fullmatch(r"\d{4}-\d{2}-\d{2}", text))


def parse_calendar(hours_spec: str, *, timezone: str, holidays: str = "") -> BusinessCalendar:
    zone = ZoneInfo(timezone)
    holiday_dates = _parse_holidays(holidays)
    spec = hours_spec.strip().lower()
    if spec in ("always", "24/7", "24x7"):
        return BusinessCalendar(zone=zone, hours={}, holidays=frozenset(), always_open=True)
    hours: dict[int, list[tuple[time, time]]] = {}
    for raw_rule in filter(None, (part.strip() for part in spec.split(";"))):
        match = _RULE.match(raw_rule)
        if not match:
            raise BusinessHoursError(
                f"cannot read {raw_rule!r}; expected e.g. 'mon-fri 08:00-20:00'"
            )
        first, last = match["first"], match["last"] or match["first"]
        if first not in _DAYS or last not in _DAYS:
            raise BusinessHoursError(f"unknown day in {raw_rule!r}")
        opens, closes = _parse_time(match["open"]), _parse_time(match["close"])
        if closes <= opens:
            raise BusinessHoursError(f"{raw_rule!r} closes before it opens")
        start, end = _DAYS.index(first), _DAYS.index(last)
        days = range(start, end + 1) if start <= end else [*range(start, 7), *range(0, end + 1)]
        for day in days:
            hours.setdefault(day, []).append((opens, closes))
    if not hours:
        raise BusinessHoursError("no opening hours given; use 'always' for a 24/7 line")
    return BusinessCalendar(
        zone=zone,
        hours={day: tuple(sorted(ranges)) for day, ranges in hours.items()},
        holidays=holiday_dates,
    )


@dataclass(frozen=True)
class QuietHours:
    """Local hours in which no customer is texted, e.g. 21:00-08:00 (may span midnight)."""

    start: time
    end: time

    def contains(self, moment: datetime, zone: ZoneInfo) -> bool:
        now = moment.astimezone(zone).time()
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= now < self.end
        return now >= self.start or now < self.end

    def next_allowed(self, moment: datetime, zone: ZoneInfo) -> datetime:
        """`moment` itself outside quiet hours, else the end of the quiet period (UTC)."""
        if not self.contains(moment, zone):
            return moment.astimezone(UTC)
        local = moment.astimezone(zone)
        day = local.date()
        if self.start > self.end and local.time() >= self.start:
            day += timedelta(days=1)  # evening: the quiet period ends tomorrow morning
        # Built from the wall-clock time, so a DST change in the zone lands on the local hour.
        return datetime.combine(day, self.end, tzinfo=zone).astimezone(UTC)


def parse_quiet_hours(spec: str) -> QuietHours:
    """`21:00-08:00`, or empty / `none` for no quiet hours."""
    text = spec.strip().lower()
    if text in ("", "none", "off"):
        return QuietHours(time(0), time(0))
    match = re.fullmatch(r"(\d{1,2}:\d{2})\s*-\s*(\d{1,2}:\d{2})", text)
    if not match:
        raise BusinessHoursError(f"cannot read quiet hours {spec!r}; expected e.g. '21:00-08:00'")
    start, end = _parse_time(match[1]), _parse_time(match[2])
    if time.max in (start, end):
        raise BusinessHoursError("quiet hours use 00:00, not 24:00")
    return QuietHours(start, end)
