from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from hotline.business_hours import BusinessHoursError, parse_calendar

SPEC = "mon-fri 08:00-20:00; sat-sun 09:00-17:00"


def shanghai(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment in November 2026, bank time (the 23rd is a Monday), as aware UTC."""
    return datetime(2026, 11, day, hour, minute, tzinfo=ZoneInfo("Asia/Shanghai")).astimezone(UTC)


def test_weekday_and_weekend_hours() -> None:
    calendar = parse_calendar(SPEC, timezone="Asia/Shanghai")
    assert calendar.is_open(shanghai(24, 8))
    assert calendar.is_open(shanghai(24, 19, 59))
    assert not calendar.is_open(shanghai(24, 20))
    assert not calendar.is_open(shanghai(24, 7, 59))
    assert calendar.is_open(shanghai(28, 9))
    assert not calendar.is_open(shanghai(28, 17))


def test_holidays_are_closed_and_skipped_for_the_next_opening() -> None:
    calendar = parse_calendar(SPEC, timezone="Asia/Shanghai", holidays="2026-11-25, 2026-11-26")
    assert not calendar.is_open(shanghai(25, 10))
    assert calendar.next_opening(shanghai(24, 21)) == shanghai(27, 8)


def test_next_opening_of_an_open_moment_is_now() -> None:
    calendar = parse_calendar(SPEC, timezone="Asia/Shanghai")
    assert calendar.next_opening(shanghai(24, 10)) == shanghai(24, 10)


def test_friday_night_opens_saturday_morning() -> None:
    calendar = parse_calendar(SPEC, timezone="Asia/Shanghai")
    assert calendar.next_opening(shanghai(27, 22)) == shanghai(28, 9)


def test_always_is_always_open() -> None:
    calendar = parse_calendar("always", timezone="Asia/Shanghai", holidays="2026-11-24")
    assert calendar.is_open(shanghai(24, 3))


def test_holidays_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "holidays.txt"
    path.write_text("# national day\n2026-10-01\n2026-10-02\n")
    calendar = parse_calendar(SPEC, timezone="Asia/Shanghai", holidays=str(path))
    assert calendar.holidays == {datetime(2026, 10, 1).date(), datetime(2026, 10, 2).date()}


@pytest.mark.parametrize(
    "spec",
    ["", "mon-fri", "mon-fri 20:00-08:00", "xyz 08:00-09:00", "mon-fri 25:00-26:00", "mon 8-9"],
)
def test_bad_hours_are_refused_with_a_reason(spec: str) -> None:
    with pytest.raises(BusinessHoursError):
        parse_calendar(spec, timezone="Asia/Shanghai")


def test_bad_holiday_is_refused() -> None:
    with pytest.raises(BusinessHoursError):
        parse_calendar(SPEC, timezone="Asia/Shanghai", holidays="2026-13-01, 2026-01-01")
    with pytest.raises(BusinessHoursError):
        parse_calendar(SPEC, timezone="Asia/Shanghai", holidays="/no/such/file")
