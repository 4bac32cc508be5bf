from datetime import timedelta

import pytest

from aimsweb.durations import duration_text


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (None, "—"),
        (timedelta(0), "0 s"),
        (timedelta(seconds=-30), "0 s"),  # clocks apart: nothing elapsed
        (timedelta(milliseconds=850), "850 ms"),
        (timedelta(seconds=42, milliseconds=900), "42 s"),
        (timedelta(minutes=1), "1 min"),
        (timedelta(minutes=3, seconds=37), "3 min 37 s"),
        (timedelta(minutes=59, seconds=59), "59 min 59 s"),
        (timedelta(hours=1), "1 h"),
        (timedelta(hours=1, minutes=20, seconds=59), "1 h 20 min"),
        (timedelta(hours=23, minutes=59), "23 h 59 min"),
        (timedelta(days=2, hours=3, minutes=5), "2 d 3 h"),
        (timedelta(days=40), "40 d"),
    ],
)
def test_duration_text_two_largest_units_truncated(delta, text):
    assert duration_text(delta) == text
