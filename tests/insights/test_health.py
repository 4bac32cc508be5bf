"""Health scores are reproducible from their components: the score is the documented weighted mean over the
components that apply, each component is what the module says it is, and the trend is the same score per day."""

from datetime import UTC, datetime, timedelta

import pytest

from insights.health import WEIGHTS, CheckFact, Facts, RunFact, health_of, health_score, pipeline_components

NOW = datetime(2026, 12, 7, 12, tzinfo=UTC)


def _run(hours_ago: float, succeeded: bool | None = True, *, rerun=False, seconds=600.0) -> RunFact:
    return RunFact(
        started_at=NOW - timedelta(hours=hours_ago), succeeded=succeeded, rerun=rerun, duration_seconds=seconds
    )


def test_health_score_is_the_weighted_mean_of_the_components_that_apply():
    components = {
        "success": 0.5,
        "retries": 1.0,
        "recovery": None,
        "duration": 0.8,
        "missed_runs": None,
        "contracts": 1.0,
        "freshness": None,
    }
    expected = (30 * 0.5 + 10 * 1.0 + 10 * 0.8 + 10 * 1.0) / (30 + 10 + 10 + 10)
    assert health_score(components) == round(100 * expected) == 72
    assert health_score(dict.fromkeys(WEIGHTS)) is None
    assert health_score({"success": 1.0}) == 100


def test_pipeline_components_each_measure_one_thing():
    facts = Facts(
        runs=[
            _run(100, True, seconds=600),
            _run(90, False),
            _run(88, True, rerun=True, seconds=660),  # 2 h to recover
            _run(70, True, seconds=540),
            _run(50, False),
            _run(44, True, seconds=600),  # 6 h to recover
            _run(1, None),  # still running: not finished
        ],
        missed=[NOW - timedelta(hours=20)],
        checks=[
            CheckFact(NOW - timedelta(hours=5), failed=True, freshness_held=None),
            CheckFact(NOW - timedelta(hours=4), failed=False, freshness_held=True),
            CheckFact(NOW - timedelta(days=9), failed=True, freshness_held=False),
        ],  # outside the window
        scheduled=True,
    )
    components = pipeline_components(facts, start=NOW - timedelta(days=7), end=NOW)

    assert components["success"] == pytest.approx(4 / 6)
    assert components["retries"] == pytest.approx(1 - 1 / 4)
    assert components["recovery"] == pytest.approx(1 - 4 / 24)  # median of 2 h and 6 h
    assert components["duration"] == pytest.approx(1 - 1.4826 * 30 / 600)  # durations 540, 600, 600, 660
    assert components["missed_runs"] == pytest.approx(1 - 1 / (6 + 1))  # 6 runs started, reruns aside
    assert components["contracts"] == pytest.approx(0.5)
    assert components["freshness"] == pytest.approx(1.0)


def test_health_of_recomputes_from_its_components_and_trends_per_day():
    facts = Facts(runs=[_run(h, h % 48 != 0) for h in range(0, 24 * 21, 12)], scheduled=False)
    health = health_of(facts, now=NOW)

    assert health.score == health_score(health.components)
    assert len(health.trend) == 14 and health.trend[-1] == health.score
    assert all(score is not None for score in health.trend)
    assert health.components["missed_runs"] is None  # no schedule known, none missed
    nothing = health_of(Facts(), now=NOW)
    assert (nothing.score, set(nothing.components.values())) == (None, {None})
