"""Pipelines through the API: list with filters, one, its runs (filtered, paged) and its health."""

from datetime import timedelta

import pytest
from django.utils import timezone

from aimsweb.roles import Role
from monitors.models import Connection, Pipeline, PipelineRun
from tests.insights.factories import add_runs
from tests.monitors.factories import make_connection, make_pipeline, make_run

pytestmark = pytest.mark.django_db


def test_pipeline_list_filters_by_connection_kind_criticality_and_name(key_client):
    client, _ = key_client(Role.VIEWER)
    adf = make_connection()
    dbx = make_connection(kind=Connection.Kind.DATABRICKS, auth_method=Connection.AuthMethod.STATIC_TOKEN)
    sales = make_pipeline(adf, name="pl_sales_daily", criticality=Pipeline.Criticality.CRITICAL)
    make_pipeline(adf, name="pl_hr_weekly")
    job = make_pipeline(dbx, name="sales_features")

    by_name = client.get("/api/v1/pipelines?name=SALES&sort=name").json()["results"]
    by_kind = client.get("/api/v1/pipelines?kind=databricks").json()["results"]
    by_both = client.get(f"/api/v1/pipelines?connection={adf.pk}&criticality=critical").json()["results"]

    assert [row["id"] for row in by_name] == [sales.pk, job.pk]
    assert [row["id"] for row in by_kind] == [job.pk]
    assert [row["id"] for row in by_both] == [sales.pk]
    assert by_both[0]["connection"] == {"id": adf.pk, "name": adf.name, "kind": "adf"}
    assert by_both[0]["web_url"].endswith(f"/pipelines/{sales.pk}/")


def test_pipeline_list_queries_constant_whatever_rows(key_client, django_assert_num_queries):
    client, _ = key_client(Role.VIEWER)
    make_pipeline()
    client.get("/api/v1/pipelines")  # the key's last use is written on the first call only

    with django_assert_num_queries(4) as one:
        client.get("/api/v1/pipelines")
    for _ in range(15):
        make_pipeline()
    with django_assert_num_queries(len(one.captured_queries)):
        response = client.get("/api/v1/pipelines")

    assert len(response.json()["results"]) == 16


def test_pipeline_get_unknown_is_404_problem(key_client):
    client, _ = key_client(Role.VIEWER)

    response = client.get("/api/v1/pipelines/424242")

    assert response.status_code == 404
    assert response.headers["Content-Type"] == "application/problem+json"


def test_pipeline_runs_filter_status_and_time_range(key_client):
    client, _ = key_client(Role.VIEWER)
    pipeline = make_pipeline()
    now = timezone.now()
    old_failure = make_run(pipeline, started_at=now - timedelta(days=3))
    new_failure = make_run(pipeline, started_at=now - timedelta(hours=1), error_message="Timeout\nat line 2")
    make_run(pipeline, status=PipelineRun.Status.SUCCEEDED, started_at=now - timedelta(hours=2))
    make_run()  # another pipeline's

    since = (now - timedelta(days=1)).isoformat().replace("+00:00", "Z")
    response = client.get(f"/api/v1/pipelines/{pipeline.pk}/runs", {"status": "failed", "started_after": since})
    everything = client.get(f"/api/v1/pipelines/{pipeline.pk}/runs?status=failed").json()["results"]

    assert response.status_code == 200, response.content
    rows = response.json()["results"]
    assert [row["id"] for row in rows] == [new_failure.pk]
    assert rows[0]["error_headline"] == "Timeout"
    assert {row["id"] for row in everything} == {old_failure.pk, new_failure.pk}


def test_pipeline_runs_of_unknown_pipeline_is_404(key_client):
    client, _ = key_client(Role.VIEWER)

    assert client.get("/api/v1/pipelines/999999/runs").status_code == 404


def test_pipeline_runs_bad_status_is_problem_naming_status(key_client):
    client, _ = key_client(Role.VIEWER)
    pipeline = make_pipeline()

    response = client.get(f"/api/v1/pipelines/{pipeline.pk}/runs?status=exploded&started_after=yesterday")

    assert response.status_code == 400
    assert {error["field"] for error in response.json()["errors"]} == {"status", "started_after"}


def test_pipeline_health_has_score_weighted_components_and_trend(key_client):
    client, _ = key_client(Role.VIEWER)
    pipeline = make_pipeline(name="orders_nightly")
    make_pipeline(name="orders_nightly_backfill")  # a name that contains the first one's
    add_runs(pipeline, "ssfssssf", now=timezone.now())

    response = client.get(f"/api/v1/pipelines/{pipeline.pk}/health")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["pipeline"] == pipeline.pk
    assert 0 <= body["score"] <= 100
    components = {component["name"]: component for component in body["components"]}
    assert components["success"]["value"] == pytest.approx(6 / 8)
    assert components["success"]["weight"] == 30
    assert len(body["trend"]) == body["trend_days"] == 14


def test_pipeline_health_without_runs_has_no_score(key_client):
    client, _ = key_client(Role.VIEWER)
    pipeline = make_pipeline()

    body = client.get(f"/api/v1/pipelines/{pipeline.pk}/health").json()

    assert body["score"] is None
    assert all(component["value"] is None for component in body["components"])


def test_pipeline_list_key_without_scope_is_403(key_client):
    client, _ = key_client(Role.VIEWER, scopes=["incidents:read"])

    response = client.get("/api/v1/pipelines")

    assert response.status_code == 403 and response.json()["code"] == "scope_missing"
