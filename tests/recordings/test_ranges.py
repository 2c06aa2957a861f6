from __future__ import annotations

import pytest

from recordings.ranges import ByteRange, RangeNotSatisfiable, parse_range


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("bytes=0-99", ByteRange(0, 99)),
        ("bytes=900-", ByteRange(900, 999)),
        ("bytes=900-5000", ByteRange(900, 999)),
        ("bytes=-10", ByteRange(990, 999)),
        ("bytes=-5000", ByteRange(0, 999)),
    ],
)
def test_satisfiable_ranges(header: str | None, expected: ByteRange | None) -> None:
    assert parse_range(header, 1000) == expected


@pytest.mark.parametrize(
    "header", ["bytes=1000-", "bytes=5-4", "bytes=-0", "bytes=-", "items=0-1", "bytes=0-1,3-4"]
)
def test_unsatisfiable_ranges(header: str) -> None:
    with pytest.raises(RangeNotSatisfiable):
        parse_range(header, 1000)


def test_content_range() -> None:
    assert ByteRange(10, 19).content_range(1000) == "bytes 10-19/1000"
