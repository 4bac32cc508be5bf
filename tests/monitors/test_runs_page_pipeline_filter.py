"""The runs page's pipeline filter and pagination, and numbers too large for an id on the pipeline and runs pages."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.monitors.factories import make_pipeline, make_run
from tests.monitors.pipeline_pages_helpers import S, run_at

# The runs page


@pytest.mark.django_db
def test_runs_page_pipeline_filter_shows_only_its_runs(viewer_client):
    pipeline = make_pipeline(name="sales_daily")
    mine = run_at(pipeline, S.FAILED, timedelta(hours=1))
    other = run_at(make_pipeline(), S.FAILED, timedelta(hours=1))

    filtered = viewer_client.get("/runs/", {"pipeline": pipeline.pk, "status": "failed"}).content.decode()
    unknown = viewer_client.get("/runs/", {"pipeline": 999999}).content.decode()

    assert f'id="run-{mine.pk}"' in filtered and f'id="run-{other.pk}"' not in filtered
    assert f'<input type="hidden" name="pipeline" value="{pipeline.pk}">' in filtered
    assert f'<a href="/pipelines/{pipeline.pk}/">sales_daily</a>' in filtered
    assert 'href="/runs/?status=failed" aria-label="Show runs of every pipeline"' in filtered
    assert f'id="run-{mine.pk}"' in unknown and f'id="run-{other.pk}"' in unknown  # unknown pipeline: no filter


@pytest.mark.django_db
def test_runs_page_more_than_50_runs_paginates(viewer_client):
    pipeline = make_pipeline()
    runs = [run_at(pipeline, S.FAILED, timedelta(minutes=i)) for i in range(51)]  # newest first
    make_run(status=S.FAILED)  # another pipeline's, newest of all

    first = viewer_client.get("/runs/", {"pipeline": pipeline.pk, "status": "failed"}).content.decode()
    second = viewer_client.get(
        "/runs/", {"pipeline": pipeline.pk, "status": "failed", "page": 2}, headers={"HX-Request": "true"}
    ).content.decode()

    assert first.count('<tr id="run-') == 50 and f'id="run-{runs[50].pk}"' not in first
    assert f'rel="next" href="?status=failed&amp;pipeline={pipeline.pk}&amp;page=2"' in first
    assert 'rel="prev"' not in first
    assert second.lstrip().startswith('<tbody id="run-rows"')
    assert second.count('<tr id="run-') == 1 and f'id="run-{runs[50].pk}"' in second
    assert 'rel="prev"' in second and 'rel="next"' not in second


@pytest.mark.django_db
def test_runs_page_filtered_query_count_constant(viewer_client):
    pipeline = make_pipeline()

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert viewer_client.get("/runs/", {"pipeline": pipeline.pk, "page": 1}).status_code == 200
        return len(captured)

    make_run(pipeline)
    one = queries()
    for _ in range(60):
        make_run(pipeline)

    assert queries() == one


@pytest.mark.django_db
def test_pages_numbers_too_large_for_an_id_are_ignored(viewer_client):
    run = make_run()
    huge = "9" * 25

    pipelines = viewer_client.get("/pipelines/", {"connection": huge, "page": huge})
    runs = viewer_client.get("/runs/", {"pipeline": huge, "page": huge})
    deep = viewer_client.get("/runs/", {"page": 10**9})

    assert pipelines.status_code == 200 and f'id="pipeline-{run.pipeline.pk}"' in pipelines.content.decode()
    assert runs.status_code == 200 and f'id="run-{run.pk}"' in runs.content.decode()
    assert deep.status_code == 200 and "No runs on this page" in deep.content.decode()
