"""User overrides (expected, excluded), detect_last, per-monitor rules and the ratio and count kinds."""

import dataclasses
import random
from datetime import timedelta

import pytest

from insights.anomalies.detector import DetectorInputError, detect, detect_last
from insights.anomalies.rules import RULES
from tests.insights.anomaly_series import START, daily_volume, scaled


def _flags(detections) -> list[int]:
    return [i for i, d in enumerate(detections) if d.anomalous]


def _daily(values: list[float]) -> list[tuple]:
    return [(START + timedelta(days=day), value) for day, value in enumerate(values)]


def test_detect_level_change_marked_expected_first_two_weeks_stops_alerting():
    points = scaled(daily_volume(100, weekend=0.3), range(40, 100), 0.5)
    expected = dict.fromkeys(range(40, 54), "expected")

    unmarked = _flags(detect(points, "volume_daily", "day"))
    marked = _flags(detect(points, "volume_daily", "day", overrides=expected))

    assert set(range(90, 100)) & set(unmarked)
    assert not set(expected) & set(marked)
    assert [i for i in marked if i >= 61] == []


def test_detect_excluded_outage_leaves_later_baseline_as_without_it():
    clean = daily_volume(80, weekend=0.3)
    # A partial outage too mild to flag: were it learnt, it would lower the baseline and widen the band.
    outage = scaled(clean, range(30, 40), 0.8)
    excluded = dict.fromkeys(range(30, 40), "excluded")

    with_outage = detect(outage, "volume_daily", "day", overrides=excluded)
    without_outage = detect(clean, "volume_daily", "day", overrides=excluded)
    learnt = detect(outage, "volume_daily", "day")

    assert with_outage[40:] == without_outage[40:]
    assert not any(d.anomalous for d in with_outage[30:40])
    assert learnt[45].expected < with_outage[45].expected


def test_detect_excluded_drop_no_flag_and_later_drop_still_flagged():
    points = scaled(scaled(daily_volume(60), range(30, 33), 0.0), range(50, 51), 0.4)

    detections = detect(points, "volume_daily", "day", overrides={30: "excluded", 31: "excluded", 32: "excluded"})

    assert _flags(detections) == [50]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [({99: "expected"}, "overrides: 99"), ({3: "ignored"}, r"overrides\[3\]")],
)
def test_detect_bad_override_raises_naming_it(overrides, message):
    with pytest.raises(DetectorInputError, match=message):
        detect(daily_volume(10), "volume_daily", "day", overrides=overrides)


def test_detect_last_long_series_same_as_full_run():
    points = scaled(daily_volume(150, weekend=0.3), range(146, 150), 0.5)

    whole = detect(points, "volume_daily", "day")

    for end in (100, 120, 147, 150):
        assert detect_last(points[:end], "volume_daily", "day") == whole[end - 1]
    assert whole[-1].anomalous


def test_detect_last_ignores_points_before_history():
    points = daily_volume(120)
    spoiled = scaled(points, range(0, 30), 5.0)

    assert detect_last(spoiled, "volume_daily", "day", history=80) == detect_last(points, "volume_daily", "day")


def test_detect_last_override_in_history_applies_to_last_point():
    points = scaled(daily_volume(60), range(59, 60), 0.3)

    assert detect_last(points, "volume_daily", "day").anomalous
    assert not detect_last(points, "volume_daily", "day", overrides={59: "expected"}, history=30).anomalous


def test_detect_rule_drop_only_ignores_spike_and_larger_min_drop_ignores_small_drop():
    points = scaled(scaled(daily_volume(60, noise=0.01), range(40, 41), 3.0), range(50, 51), 0.7)
    drop_only = dataclasses.replace(RULES["volume_daily"], direction="drop")
    big_drops = dataclasses.replace(RULES["volume_daily"], min_drop=0.5)

    assert _flags(detect(points, "volume_daily", "day")) == [40, 50]
    assert _flags(detect(points, "volume_daily", "day", rule=drop_only)) == [50]
    assert _flags(detect(points, "volume_daily", "day", rule=big_drops)) == [40]
    assert not detect_last(points[:41], "volume_daily", "day", rule=drop_only).anomalous


def test_detect_ratio_moves_of_five_points_either_way_flagged():
    rng = random.Random(3)
    rates = [min(1.0, 0.97 + rng.gauss(0, 0.003)) for _ in range(60)]
    rates[45], rates[50], rates[55] = 0.99, 0.90, 1.0

    detections = detect(_daily(rates), "ratio", "day")

    assert _flags(detections) == [50]
    assert detections[50].low < detections[50].expected < detections[50].high


def test_detect_ratio_above_one_raises_naming_the_point():
    with pytest.raises(DetectorInputError, match="point 2: value 1.5 is not a number between 0 and 1"):
        detect(_daily([0.1, 0.2, 1.5]), "ratio", "day")


def test_detect_count_rise_by_three_flagged_fall_and_rise_by_two_not():
    counts = [1.0 if day % 9 == 0 else 0.0 for day in range(60)]
    counts[40], counts[45], counts[50] = 2.0, 0.0, 3.0

    assert _flags(detect(_daily(counts), "count", "day")) == [50]
    assert detect_last(_daily(counts[:51]), "count", "day").anomalous
