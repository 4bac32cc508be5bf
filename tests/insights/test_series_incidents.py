"""A series' verdicts drive one incident: an anomaly that persists keeps it open (each anomalous bucket counted
once), it resolves only after `recover_after` buckets back inside the band, learning never pages, a series switched
off records without paging, and a person's "mark as expected" retrains at once, is audited and resolves it."""

from datetime import UTC, datetime, timedelta

import pytest

from contracts.models import CheckRun
from incidents.models import Incident, IncidentEvent
from insights.models import Point, Series, SeriesNote
from insights.services.anomalies import series_verdict_report
from insights.services.collect import check_points_record, pipeline_days_record, points_prune
from insights.services.notes import series_note_add
from insights.services.series import point_record
from monitors.models import PipelineRun
from tests.contracts.factories import make_contract
from tests.insights.factories import make_check
from tests.monitors.factories import make_pipeline, make_run
from tests.monitors.fakes import FakeSourceClient

pytestmark = pytest.mark.django_db
START = datetime(2026, 9, 1, tzinfo=UTC)


def _series(**fields) -> Series:
    pipeline = make_pipeline()
    return Series.objects.create(
        key=f"pipeline:{pipeline.pk}:duration_seconds",
        subject=Series.Subject.PIPELINE,
        metric=Series.Metric.DURATION,
        pipeline=pipeline,
        **fields,
    )


def _feed(series: Series, values: list[float], *, start: datetime = START) -> list[Point]:
    points = []
    for n, value in enumerate(values):
        scored = point_record(series=series, t=start + timedelta(days=n), value=value)
        series_verdict_report(scored, series=Series.objects.get(pk=series.pk))
        points.append(scored.point)
    return points


NORMAL = [600 + (n * 37) % 40 for n in range(35)]


def test_a_slow_stretch_keeps_one_incident_open_until_back_in_band_for_k_buckets():
    series = _series(recover_after=3)
    points = _feed(series, NORMAL + [1900, 1950, 2000, 610, 620])

    incident = Incident.objects.get(source="anomaly")
    assert [p.anomalous for p in points[-5:]] == [True, True, True, False, False]
    assert incident.occurrence_count == 3 and incident.status == Incident.Status.TRIGGERED
    assert "run duration" in incident.title and "above expected" in incident.title

    _feed(series, [615], start=START + timedelta(days=40))
    incident.refresh_from_db()
    assert incident.status == Incident.Status.RESOLVED
    assert incident.events.filter(kind=IncidentEvent.Kind.AUTO_RESOLVED).exists()
    assert Series.objects.get(pk=series.pk).state == Series.State.NORMAL


def test_learning_and_disabled_series_never_page():
    learning = _series()
    _feed(learning, [600, 610, 5000, 620])  # far too little history to judge
    assert Point.objects.filter(series=learning, state=Point.State.LEARNING).count() == 4
    assert not Incident.objects.exists()

    off = _series(enabled=False)
    points = _feed(off, NORMAL + [5000])
    assert points[-1].anomalous and not Incident.objects.exists()


def test_mark_as_expected_retrains_at_once_is_audited_and_resolves(responder):
    series = _series()
    _feed(series, NORMAL + [1900, 1950])
    incident = Incident.objects.get(source="anomaly")
    first, last = START + timedelta(days=35), START + timedelta(days=36)

    outcome = series_note_add(
        series_id=series.pk,
        kind=SeriesNote.Kind.EXPECTED,
        start=first,
        end=last,
        note="new enrichment step",
        user=responder,
    )

    assert outcome.rescored == 2 and outcome.resolved
    assert not Point.objects.filter(series=series, anomalous=True).exists()
    incident.refresh_from_db()
    assert incident.status == Incident.Status.RESOLVED
    comment = incident.events.get(kind=IncidentEvent.Kind.COMMENTED)
    assert comment.actor_user == responder and "marked as expected: new enrichment step" in comment.note
    assert SeriesNote.objects.get().created_by == responder


def test_note_errors_name_the_field(responder):
    series = _series()
    with pytest.raises(Exception) as caught:
        series_note_add(
            series_id=series.pk, kind="forget", start=START, end=START - timedelta(days=1), note="", user=responder
        )
    assert set(caught.value.message_dict) == {"kind", "end"}
    assert not SeriesNote.objects.exists()


def test_pipeline_days_sum_runs_per_finished_day_once():
    pipeline = make_pipeline()
    now = datetime(2026, 12, 7, 9, tzinfo=UTC)
    for day in range(1, 4):
        for hour in (1, 13):
            started = now.replace(hour=hour) - timedelta(days=day)
            make_run(
                pipeline=pipeline,
                status=PipelineRun.Status.SUCCEEDED,
                started_at=started,
                ended_at=started + timedelta(minutes=10),
                duration_ms=600_000,
            )
    make_run(pipeline=pipeline, status=PipelineRun.Status.FAILED, started_at=now - timedelta(hours=2))  # today

    recorded = pipeline_days_record(now=now, pipeline_ids=[pipeline.pk])

    runs = Series.objects.get(pipeline=pipeline, metric=Series.Metric.RUNS)
    assert list(runs.points.values_list("value", flat=True)) == [2.0, 2.0, 2.0]
    durations = Series.objects.get(pipeline=pipeline, metric=Series.Metric.DURATION)
    assert set(durations.points.values_list("value", flat=True)) == {600.0}
    assert recorded == 3 * 4  # runs, reruns, success rate, duration per day
    assert pipeline_days_record(now=now, pipeline_ids=[pipeline.pk]) == 0  # those days are done


def test_direction_and_minimum_changes_per_series_decide_what_pages():
    drops_only = _series(direction=Series.Direction.DROP)
    assert not _feed(drops_only, NORMAL + [1900])[-1].anomalous  # slower is not what this series watches

    small = _series(min_change_absolute=2000.0)  # seconds: a 20-minute regression is not worth a page here
    assert not _feed(small, NORMAL + [1900])[-1].anomalous
    big = _series(min_change_percent=500)  # only six times slower pages
    assert not _feed(big, NORMAL + [1900])[-1].anomalous
    assert _feed(big, [4500], start=START + timedelta(days=36))[-1].anomalous
    assert not Incident.objects.exclude(pipeline=big.pipeline).exists()


def test_a_check_of_a_producing_run_records_what_the_platform_says_it_wrote(settings):
    settings.MONITOR_CLIENTS = dict.fromkeys(("adf", "databricks"), "tests.monitors.fakes.FakeSourceClient")
    FakeSourceClient.written = {"run-w": 1234}
    contract = make_contract()
    run = make_run(status=PipelineRun.Status.SUCCEEDED, external_run_id="run-w")
    check = make_check(contract, table="orders", failed=False, fresh=None, at=run.started_at)
    CheckRun.objects.filter(pk=check.pk).update(
        trigger=CheckRun.Trigger.RUN, triggered_by_run=run, metrics={"orders": {"row_count": 1200.0}}
    )

    assert check_points_record(check_run_id=check.pk) == 2

    written = Point.objects.get(series__metric=Series.Metric.ROWS_WRITTEN)
    assert (written.value, written.run, written.series.table) == (1234.0, run, "orders")
    FakeSourceClient.written = {}
    assert check_points_record(check_run_id=check.pk) == 1  # the platform says nothing: the rows alone


def test_points_older_than_the_retention_go_in_batches(settings):
    settings.AIMS_POINT_RETENTION_DAYS, settings.AIMS_PRUNE_BATCH = 30, 2
    series = _series()
    now = START + timedelta(days=45)
    Point.objects.bulk_create(Point(series=series, t=START + timedelta(days=n), value=1.0) for n in range(45))

    assert points_prune(now=now) == 15
    assert Point.objects.filter(series=series).earliest("t").t == now - timedelta(days=30)


def test_points_of_several_series_score_as_each_alone():
    """The batch path (one check's metrics) gives each series the verdict point_record gives it alone."""
    from insights.services.series import points_record

    alone, batched = _series(), _series()
    other = _series(min_change_percent=500)
    history = NORMAL + [1900]
    expected = _feed(alone, history)[-1]
    for n, value in enumerate(history):
        t = START + timedelta(days=n)
        series = [Series.objects.get(pk=batched.pk), Series.objects.get(pk=other.pk)]
        scored = points_record(values=[(series[0], value), (series[1], value)], t=t)

    assert (scored[0].point.anomalous, scored[0].point.expected) == (expected.anomalous, expected.expected)
    assert scored[0].point.anomalous and not scored[1].point.anomalous
    assert Series.objects.get(pk=batched.pk).last_point_at == START + timedelta(days=len(history) - 1)


def test_a_check_records_its_metrics_in_a_fixed_number_of_queries(django_assert_max_num_queries):
    contract = make_contract()

    def check_with(columns: int) -> CheckRun:
        metrics = {"row_count": 100.0, **{f"null_ratio:c{n}": 0.01 for n in range(columns)}}
        check = make_check(contract, table="orders", failed=False, fresh=None, at=START)
        CheckRun.objects.filter(pk=check.pk).update(metrics={"orders": metrics})
        return check

    check_points_record(check_run_id=check_with(2).pk)  # the series exist from here on
    with django_assert_max_num_queries(40) as few:
        assert check_points_record(check_run_id=check_with(2).pk) == 3
    with django_assert_max_num_queries(len(few.captured_queries) + 5 * 12) as many:
        assert check_points_record(check_run_id=check_with(14).pk) == 15
    # Per metric only its verdict's own bookkeeping (lock and save the series, look for an incident to resolve, in
    # a savepoint here); recording, history, notes and scores are per check (about 11 per metric before).
    per_metric = (len(many.captured_queries) - len(few.captured_queries)) / 12
    assert per_metric <= 5, per_metric
