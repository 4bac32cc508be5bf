"""The runs page: every role reads runs and their failures; filters; a fixed number of queries."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from monitors.models import PipelineRun
from tests.monitors.factories import make_pipeline, make_run


@pytest.mark.django_db
def test_runs_page_lists_runs_with_specific_errors(viewer_client):
    failed = make_run(error_message="AnalysisException: [TABLE_OR_VIEW_NOT_FOUND] raw.orders", failed_step="transform")
    ok = make_run(pipeline=failed.pipeline, status=PipelineRun.Status.SUCCEEDED, error_message="")

    html = viewer_client.get("/runs/").content.decode()

    assert f'id="run-{failed.pk}"' in html and f'id="run-{ok.pk}"' in html
    assert "AnalysisException: [TABLE_OR_VIEW_NOT_FOUND] raw.orders" in html
    assert "<strong>transform</strong>" in html


@pytest.mark.django_db
def test_runs_page_filters_by_status_and_search(viewer_client):
    pipeline = make_pipeline(name="sales_daily")
    failed = make_run(pipeline=pipeline)
    ok = make_run(pipeline=pipeline, status=PipelineRun.Status.SUCCEEDED)
    other = make_run(error_message="OutOfMemoryError: Java heap space")

    only_failed = viewer_client.get("/runs/", {"status": "failed"}).content.decode()
    heap = viewer_client.get("/runs/", {"q": "heap space"}).content.decode()
    bogus = viewer_client.get("/runs/", {"status": "exploded"}).content.decode()

    def row(run) -> str:
        return f'id="run-{run.pk}"'

    assert row(failed) in only_failed and row(ok) not in only_failed
    assert row(other) in heap and row(failed) not in heap
    assert row(ok) in bogus  # an unknown status shows everything rather than an error


@pytest.mark.django_db
def test_runs_page_htmx_gets_rows_only(viewer_client):
    make_run()

    html = viewer_client.get("/runs/", headers={"HX-Request": "true"}).content.decode()

    assert html.lstrip().startswith('<tbody id="run-rows"') and "<html" not in html


@pytest.mark.django_db
def test_runs_page_query_count_constant(viewer_client):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert viewer_client.get("/runs/").status_code == 200
        return len(captured)

    make_run()
    one = queries()
    for _ in range(5):
        make_run()

    assert queries() == one


@pytest.mark.django_db
def test_runs_page_needs_a_role(client, no_role_user):
    client.force_login(no_role_user)

    assert client.get("/runs/").status_code == 403
