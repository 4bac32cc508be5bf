import math
from datetime import UTC, datetime, timedelta

import pytest

from insights.anomalies.elementary import elementary_scores
from insights.anomalies.scoring import score, sustained_tails


def test_sustained_tails_second_and_later_buckets_of_runs_only():
    assert sustained_tails(frozenset({3, 4, 5, 9, 12, 13})) == {4, 5, 13}


def test_score_counts_per_kind_and_overall():
    results = [
        ("volume_daily", 100, frozenset({10, 11, 12}), frozenset({10, 11, 50})),
        ("runs_per_day", 90, frozenset(), frozenset({5})),
    ]

    figures = score(results)

    volume, overall = figures["volume_daily"], figures["overall"]
    assert (volume.precision, volume.recall) == pytest.approx((2 / 3, 2 / 3))
    assert volume.sustained_recall == pytest.approx(1 / 2)
    assert volume.false_alarms_per_90 == pytest.approx(90 * 1 / 97)
    assert overall.precision == pytest.approx(2 / 4)
    assert overall.false_alarms_per_90 == pytest.approx(90 * 2 / 187)
    assert list(figures)[-1] == "overall"


def _daily(values):
    start = datetime(2026, 1, 1, tzinfo=UTC)
    return [(start + timedelta(days=i), v) for i, v in enumerate(values)]


def test_elementary_score_includes_current_row_so_bounded_by_n():
    # Ten flat points then a huge spike: with the spike in its own baseline |z| <= (n - 1) / sqrt(n).
    scores = elementary_scores(_daily([100.0] * 10 + [1e9]))

    assert scores[-1] == pytest.approx((11 - 1) / math.sqrt(11))


def test_elementary_score_null_with_one_point_zero_when_flat():
    scores = elementary_scores(_daily([5.0, 5.0, 5.0]))

    assert scores == [None, 0.0, 0.0]


def test_elementary_day_of_week_window_spans_fourteen_weeks():
    values = [100.0 + (i % 7) for i in range(120)]

    scores = elementary_scores(_daily(values), seasonality="day_of_week")

    # Each weekday sees only its own (identical) values: flat, score 0.
    assert set(scores[7:]) == {0.0}
