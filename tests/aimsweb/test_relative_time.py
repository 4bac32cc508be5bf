"""Relative times: the words lists show (and relative-time.js redraws), and the <time> the filter draws."""

from datetime import UTC, datetime, timedelta

import pytest

from aimsweb.relative_time import relative_text
from aimsweb.templatetags.aims import relative_time

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (timedelta(seconds=0), "just now"),
        (timedelta(seconds=44), "just now"),
        (timedelta(seconds=50), "1 min ago"),
        (timedelta(minutes=2), "2 min ago"),
        (timedelta(minutes=59), "59 min ago"),
        (timedelta(hours=3, minutes=20), "3 h ago"),
        (timedelta(days=2, hours=5), "2 d ago"),
        (timedelta(days=30), "2026-11-07"),
        (-timedelta(minutes=5), "in 5 min"),
    ],
)
def test_relative_text_compact_words(delta, text):
    assert relative_text(NOW - delta, now=NOW) == text


def test_relative_time_filter_draws_a_ticking_time_with_the_full_date(settings):
    moment = datetime(2026, 12, 7, 9, 30, 5, tzinfo=UTC)

    html = relative_time(moment)

    assert html.startswith('<time class="rel" datetime="2026-12-07T09:30:05+00:00" title="2026-12-07 09:30:05 UTC"')
    assert "data-relative>" in html and html.endswith("</time>")
    assert relative_time(None) == '<span class="muted">—</span>'
