"""Quiet hours: no texts at night, bank time; then at their end."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from hotline.business_hours import BusinessHoursError, parse_quiet_hours

SHANGHAI = ZoneInfo("Asia/Shanghai")
NIGHT = parse_quiet_hours("21:00-08:00")


def local(hour: int, minute: int = 0, day: int = 24) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=SHANGHAI)


def test_daytime_is_not_quiet() -> None:
    assert NIGHT.next_allowed(local(10), SHANGHAI) == local(10).astimezone(UTC)


def test_evening_moves_to_the_next_morning() -> None:
    assert NIGHT.next_allowed(local(21, 5), SHANGHAI) == local(8, day=25)


def test_small_hours_move_to_the_same_morning() -> None:
    assert NIGHT.next_allowed(local(3), SHANGHAI) == local(8)


def test_the_end_of_quiet_hours_is_allowed() -> None:
    assert not NIGHT.contains(local(8), SHANGHAI)
    assert NIGHT.contains(local(21), SHANGHAI)


def test_quiet_hours_within_one_day() -> None:
    lunch = parse_quiet_hours("12:00-13:30")
    assert lunch.next_allowed(local(12, 10), SHANGHAI) == local(13, 30)
    assert not lunch.contains(local(11), SHANGHAI)


def test_none_turns_quiet_hours_off() -> None:
    assert not parse_quiet_hours("none").contains(local(23), SHANGHAI)


def test_unreadable_quiet_hours_are_refused() -> None:
    with pytest.raises(BusinessHoursError):
        parse_quiet_hours("9pm to 8am")
