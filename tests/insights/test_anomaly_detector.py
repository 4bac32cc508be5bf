from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from insights.anomalies.calendar import last_business_day
from insights.anomalies.detector import DetectorInputError, detect
from insights.anomalies.elementary import elementary_flags
from tests.insights.anomaly_series import daily_volume, hourly_volume, scaled


def _flags(points, kind="volume_daily", granularity="day", sensitivity="medium") -> list[int]:
    return [i for i, d in enumerate(detect(points, kind, granularity, sensitivity)) if d.anomalous]


@settings(max_examples=25, deadline=None)
@given(
    cut=st.integers(min_value=1, max_value=70),
    drop_at=st.integers(min_value=20, max_value=69),
    factor=st.sampled_from([0.0, 0.4, 2.0, 8.0]),
    weekend=st.sampled_from([1.0, 0.3]),
    seed=st.integers(min_value=0, max_value=1000),
)
def test_detect_truncated_series_same_flags_on_prefix(cut, drop_at, factor, weekend, seed):
    points = scaled(daily_volume(70, weekend=weekend, seed=seed), range(drop_at, drop_at + 3), factor)
    whole = detect(points, "volume_daily", "day")
    assert detect(points[:cut], "volume_daily", "day") == whole[:cut]


def test_detect_hourly_truncated_series_same_flags_on_prefix():
    points = scaled(hourly_volume(400), range(300, 304), 0.0)
    whole = detect(points, "volume_hourly", "hour")
    for cut in (170, 301, 350):
        assert detect(points[:cut], "volume_hourly", "hour") == whole[:cut]


def test_detect_sustained_half_drop_flagged_every_day_where_elementary_clears():
    points = scaled(daily_volume(40, noise=0.02), range(35, 38), 0.5)

    assert _flags(points) == [35, 36, 37]
    # Elementary's baseline takes in each bad day: day 1 is flagged, days 2 and 3 pass.
    elementary = [i for i, flag in enumerate(elementary_flags(points, "volume_daily")) if flag]
    assert 35 in elementary and 36 not in elementary and 37 not in elementary


def test_detect_weekend_loads_at_30_percent_not_flagged_with_weekly_season():
    points = daily_volume(70, weekend=0.3)

    detections = detect(points, "volume_daily", "day")

    assert [i for i, d in enumerate(detections) if d.anomalous] == []
    assert detections[-1].season in ("day_of_week", "month_end")


def test_detect_weekday_at_weekend_level_flagged_with_weekly_season():
    points = scaled(daily_volume(70, weekend=0.3), range(64, 65), 0.3)  # day 64 is a Wednesday

    assert _flags(points) == [64]


def test_detect_first_three_weeks_daily_learning_and_silent():
    points = scaled(daily_volume(30), range(10, 11), 0.0)

    detections = detect(points, "volume_daily", "day")

    assert {d.state for d in detections[:21]} == {"learning"}
    assert {d.state for d in detections[21:]} == {"scored"}
    assert not any(d.anomalous for d in detections[:21])


def test_detect_first_week_hourly_learning():
    detections = detect(hourly_volume(200), "volume_hourly", "hour")

    assert {d.state for d in detections[:168]} == {"learning"}
    assert detections[168].state == "scored"


def test_detect_month_end_peak_not_flagged():
    points = daily_volume(125, weekend=0.3, month_end=2.5)
    peaks = [i for i, (t, _) in enumerate(points) if last_business_day(t.date())]

    assert len(peaks) == 4
    assert _flags(points) == []


def test_detect_zero_load_flagged_and_band_around_expected():
    points = scaled(daily_volume(40), range(30, 31), 0.0)

    detection = detect(points, "volume_daily", "day")[30]

    assert detection.anomalous
    assert detection.low < detection.expected < detection.high
    assert detection.score < 0


def test_detect_freshness_lag_falling_never_flagged():
    start = datetime(2026, 3, 2, 11, tzinfo=UTC)
    points = [(start + timedelta(days=d), 300.0 + (d % 3)) for d in range(40)]
    points[30] = (points[30][0], 0.0)

    assert _flags(points, "freshness_lag_minutes") == []


def test_detect_freshness_lag_grown_half_a_day_flagged():
    start = datetime(2026, 3, 2, 11, tzinfo=UTC)
    points = [(start + timedelta(days=d), 300.0 + (d % 3)) for d in range(40)]
    points[30] = (points[30][0], 300.0 + 24 * 60)

    assert _flags(points, "freshness_lag_minutes") == [30]


def test_detect_low_sensitivity_ignores_what_high_flags():
    points = scaled(daily_volume(40), range(35, 36), 0.78)

    assert _flags(points, sensitivity="high") == [35]
    assert _flags(points, sensitivity="low") == []


@pytest.mark.parametrize(
    ("kind", "granularity", "sensitivity", "message"),
    [
        ("rows", "day", "medium", "kind 'rows'"),
        ("volume_daily", "week", "medium", "granularity 'week'"),
        ("volume_daily", "day", "extreme", "sensitivity 'extreme'"),
    ],
)
def test_detect_unknown_parameter_raises_naming_it(kind, granularity, sensitivity, message):
    with pytest.raises(DetectorInputError, match=message):
        detect(daily_volume(5), kind, granularity, sensitivity)


def test_detect_negative_volume_raises_naming_the_point():
    points = daily_volume(5)
    points[3] = (points[3][0], -1.0)

    with pytest.raises(DetectorInputError, match="point 3"):
        detect(points, "volume_daily", "day")
