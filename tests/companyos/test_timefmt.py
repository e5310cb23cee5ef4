"""The one duration and relative-time formatter (pure: no database)."""

from datetime import timedelta

import pytest

from companyos.timefmt import duration, relative

M, H, D = timedelta(minutes=1), timedelta(hours=1), timedelta(days=1)


@pytest.mark.parametrize(
    ("value", "kwargs", "text"),
    [
        (timedelta(0), {}, "0 min"),
        (59 * timedelta(seconds=1), {}, "0 min"),
        (D + 3 * H + 5 * M + timedelta(seconds=59), {}, "1 d 3 h 5 min"),
        (2 * H, {}, "2 h"),
        (5 * M + timedelta(seconds=30), {"rounding": "nearest"}, "6 min"),
        (5 * M + timedelta(seconds=29), {"rounding": "nearest"}, "5 min"),
        (42 * M, {"style": "hours"}, "42 min"),
        (D + 12 * M, {"style": "hours"}, "24 h 12 min"),
        (3 * D, {"style": "clock"}, "3 d"),
        (-(14 * H), {"style": "clock"}, "14 h"),
        (2 * H + 5 * M, {"style": "clock"}, "2:05"),
    ],
)
def test_duration(value, kwargs, text):
    assert duration(value, **kwargs) == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "just now"),
        (59, "just now"),
        (-30, "in a moment"),
        (60 * 9 + 5, "9 min ago"),
        (-7200, "in 2 h"),
        (86400 * 3, "3 d ago"),
    ],
)
def test_relative(seconds, text):
    assert relative(seconds) == text
