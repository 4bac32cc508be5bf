"""A pipeline's cadence is learnt from its own runs only when it is regular: every weekday at the same time, or a
fixed interval; irregular or too short histories give nothing, so nothing is expected of them."""

import random
from datetime import UTC, datetime, timedelta

import pytest

from insights.models import ExpectedSchedule
from insights.services.cadence import first_starts_by_day, learn_cadence
from insights.services.missed import cadences_learn
from monitors.models import PipelineRun
from tests.monitors.factories import make_pipeline, make_run


def _learn(starts):
    """As the service reads them: the first start of each day, and the latest starts."""
    return learn_cadence(first_starts_by_day(starts), sorted(starts)[-200:], now=NOW)


NOW = datetime(2026, 12, 7, 12, tzinfo=UTC)  # a Monday


def _weekday_starts(weeks: int, *, hour=2, minute=0, jitter=10, days=range(5), seed=1) -> list[datetime]:
    rng = random.Random(seed)
    starts = []
    for back in range(weeks * 7, 0, -1):
        day = (NOW - timedelta(days=back)).replace(hour=hour, minute=minute, second=0, microsecond=0)
        if day.weekday() in days:
            starts.append(day + timedelta(minutes=rng.randint(0, jitter)))
    return starts


def test_learn_cadence_every_weekday_at_the_same_time():
    cadence = _learn(_weekday_starts(6))
    assert cadence is not None
    assert cadence.cron.startswith(("2 2 ", "3 2 ", "4 2 ", "5 2 ", "6 2 ", "7 2 ", "8 2 "))
    assert cadence.cron.endswith(" * * 1,2,3,4,5")
    assert cadence.description.startswith("every weekday at 02:0") and "6 weeks" in cadence.description


def test_learn_cadence_a_weekly_job_and_a_daily_one_with_a_missed_day():
    weekly = _learn(_weekday_starts(6, hour=23, minute=30, days=(6,)))
    assert weekly is not None and weekly.cron.endswith(" 23 * * 0") and "every Sunday" in weekly.description
    daily = _weekday_starts(6, days=range(7))
    del daily[20]  # one day without a run does not unlearn the habit
    learnt = _learn(daily)
    assert learnt is not None and learnt.cron.endswith(" * * 1,2,3,4,5,6,0") and "every day" in learnt.description


def test_learn_cadence_a_fixed_interval():
    starts = [NOW - timedelta(minutes=15 * n, seconds=n % 7) for n in range(4 * 24 * 7 * 4, 0, -1)]
    cadence = _learn(starts)
    assert cadence is not None
    assert (cadence.cron, cadence.every, cadence.description) == (
        "*/15 * * * *",
        timedelta(minutes=15),
        "every 15 minutes for 4 weeks",
    )


def test_learn_cadence_nothing_from_irregular_or_short_histories():
    rng = random.Random(7)
    scattered = [NOW - timedelta(hours=rng.uniform(0, 24 * 42)) for _ in range(60)]
    assert _learn(scattered) is None
    assert _learn(_weekday_starts(2)) is None  # two weeks: too soon to expect anything
    drifting = [s + timedelta(hours=3 * (i % 3)) for i, s in enumerate(_weekday_starts(6))]
    assert _learn(drifting) is None
    assert _learn([]) is None


@pytest.mark.django_db
def test_cadences_learn_from_stored_runs_and_give_way_to_a_platform_schedule():
    weekday, interval, irregular = make_pipeline(), make_pipeline(), make_pipeline()
    for started in _weekday_starts(6):
        make_run(pipeline=weekday, started_at=started, status=PipelineRun.Status.SUCCEEDED)
    for n in range(4 * 24 * 7 * 4, 0, -4):  # every hour for four weeks
        make_run(pipeline=interval, started_at=NOW - timedelta(minutes=15 * n), status=PipelineRun.Status.SUCCEEDED)
    rng = random.Random(3)
    for _ in range(40):
        make_run(pipeline=irregular, started_at=NOW - timedelta(hours=rng.uniform(0, 24 * 40)))

    assert cadences_learn(now=NOW) == 2

    learnt = {row.pipeline_id: row for row in ExpectedSchedule.objects.filter(source="learned")}
    assert set(learnt) == {weekday.pk, interval.pk}
    assert learnt[weekday.pk].cron.endswith(" * * 1,2,3,4,5") and learnt[interval.pk].cron == "0 */1 * * *"
    assert learnt[weekday.pk].description.startswith("it has run every weekday at 02:")

    ExpectedSchedule.objects.create(
        pipeline=weekday, source="adf_trigger", name="tr_daily", cron="0 2 * * 1-5", seen_at=NOW
    )
    assert cadences_learn(now=NOW) == 1  # the platform's own schedule decides for that pipeline now
    assert not ExpectedSchedule.objects.filter(pipeline=weekday, source="learned").exists()
