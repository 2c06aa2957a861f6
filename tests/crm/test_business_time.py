"""Adding and measuring business time on the bank's calendar."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from crm.business_time import add_business_seconds, business_seconds_between
from hotline.business_hours import BusinessHoursError, parse_calendar

ZONE = ZoneInfo("Asia/Shanghai")
# Friday 27 November 2026; Monday the 30th a holiday.
CALENDAR = parse_calendar("mon-fri 09:00-17:00", timezone="Asia/Shanghai", holidays="2026-11-30")
HOUR = 3600


def at(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=ZONE)


def test_time_within_one_day_adds_plainly() -> None:
    assert add_business_seconds(CALENDAR, at(27, 10), 2 * HOUR) == at(27, 12)


def test_time_skips_the_night_the_weekend_and_a_holiday() -> None:
    assert add_business_seconds(CALENDAR, at(27, 16), 2 * HOUR) == at(1, 10, month=12)


def test_a_start_while_closed_counts_from_the_next_opening() -> None:
    assert add_business_seconds(CALENDAR, at(28, 12), HOUR) == at(1, 10, month=12)


def test_business_seconds_between_leave_out_closed_time() -> None:
    assert business_seconds_between(CALENDAR, at(27, 16), at(1, 10, month=12)) == 2 * HOUR
    assert business_seconds_between(CALENDAR, at(27, 18), at(27, 17)) == 0


def test_a_round_the_clock_line_adds_wall_time() -> None:
    always = parse_calendar("always", timezone="Asia/Shanghai")
    assert add_business_seconds(always, at(28, 12), HOUR) == at(28, 13)
    assert business_seconds_between(always, at(28, 12), at(28, 14)) == 2 * HOUR


def test_a_day_open_until_midnight_counts_to_midnight() -> None:
    late = parse_calendar("mon-sun 20:00-24:00", timezone="Asia/Shanghai")
    assert add_business_seconds(late, at(27, 23), 2 * HOUR) == at(28, 21)


def test_a_calendar_without_enough_hours_is_an_error() -> None:
    holidays = ",".join(f"2026-12-{day:02d}" for day in range(1, 32))
    closed = parse_calendar("mon-fri 09:00-17:00", timezone="Asia/Shanghai", holidays=holidays)
    with pytest.raises(BusinessHoursError):
        add_business_seconds(closed, datetime(2026, 12, 1, tzinfo=UTC), 1e9)
