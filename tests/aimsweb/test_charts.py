"""The shared chart geometry: a sparkline's path with gaps, and a series drawn over its band."""

from datetime import UTC, datetime, timedelta

from aimsweb.charts import BAND_HEIGHT, BAND_PAD, BAND_WIDTH, band_chart, sparkline

DAY = datetime(2026, 11, 2, tzinfo=UTC)


def test_sparkline_values_scaled_to_box_from_left_to_right():
    path = sparkline([0.0, 50.0, 100.0], width=100, height=20)

    assert path == "M0.0,20.0 L50.0,10.0 L100.0,0.0"


def test_sparkline_none_breaks_the_line_into_two_segments():
    path = sparkline([10.0, 20.0, None, 30.0, 40.0], width=40, height=10)

    assert path == "M0.0,10.0 L10.0,6.7 M30.0,3.3 L40.0,0.0"


def test_sparkline_fixed_scale_places_values_on_it():
    path = sparkline([50.0, 100.0], width=10, height=10, low=0, high=100)

    assert path == "M0.0,5.0 L10.0,0.0"


def test_sparkline_lone_point_between_gaps_drawn_as_dot():
    assert sparkline([None, 70.0, None], width=20, height=10, low=0, high=100) == "M10.0,3.0 L10.0,3.0"


def test_sparkline_flat_or_unknown_values_give_middle_line_or_nothing():
    assert sparkline([5.0, 5.0], width=10, height=10) == "M0.0,5.0 L10.0,5.0"
    assert sparkline([None, None], width=10, height=10) == ""
    assert sparkline([], width=10, height=10) == ""


def _points(values, *, anomalous=(), band=True):
    return [
        {
            "t": (DAY + timedelta(days=i)).isoformat(),
            "value": v,
            "expected": 100.0 if band else None,
            "low": 80.0 if band else None,
            "high": 120.0 if band else None,
            "anomalous": i in anomalous,
        }
        for i, v in enumerate(values)
    ]


def test_band_chart_value_line_band_and_expected_in_viewbox():
    chart = band_chart(_points([100.0, 110.0, 40.0], anomalous={2}))

    assert (chart["width"], chart["height"]) == (BAND_WIDTH, BAND_HEIGHT)
    xs = [row.x for row in chart["rows"]]
    assert xs == [0.0, BAND_WIDTH / 2, BAND_WIDTH]
    ys = [row.y for row in chart["rows"]]
    assert ys[2] == BAND_HEIGHT - BAND_PAD  # the lowest value sits on the bottom edge
    assert min(ys) >= BAND_PAD
    assert chart["value_path"].startswith("M0.0,") and chart["value_path"].count("L") == 2
    assert len(chart["bands"]) == 1 and len(chart["bands"][0].split()) == 6  # three highs, three lows
    assert chart["expected_path"].count("L") == 2


def test_band_chart_anomalous_points_circled_and_counted_in_words():
    chart = band_chart(_points([100.0, 105.0, 40.0], anomalous={2}))

    assert [row.value for row in chart["anomalies"]] == [40.0]
    assert chart["first_label"] == "2026-11-02" and chart["last_label"] == "2026-11-04"
    assert chart["description"] == (
        "3 points from 2026-11-02 to 2026-11-04, between 40 and 105; latest 40, expected 100; 1 outside the usual band."
    )


def test_band_chart_axis_labels_cover_values_and_band():
    chart = band_chart(_points([100.0, 130.0]))

    assert chart["min_label"] == "80" and chart["max_label"] == "130"


def test_band_chart_learning_points_without_band_split_the_band():
    points = _points([100.0, 101.0, 99.0, 100.0])
    points[1].update(low=None, high=None, expected=None)

    chart = band_chart(points)

    assert len(chart["bands"]) == 2
    assert chart["expected_path"].count("M") == 2


def test_band_chart_hourly_points_labelled_with_time_and_datetimes_accepted():
    points = [{"t": DAY + timedelta(hours=h), "value": float(h), "anomalous": False} for h in range(3)]

    chart = band_chart(points)

    assert chart["last_label"] == "2026-11-02 02:00"
    assert chart["bands"] == [] and chart["expected_path"] == ""


def test_band_chart_no_points_is_empty_with_words():
    chart = band_chart([{"t": DAY.isoformat(), "value": None}])

    assert chart["empty"] is True and chart["rows"] == [] and chart["description"] == "No points yet."
