"""A run's page (facts, full error, analysis, attempts, incidents, pipeline, contracts, the platform's own page) and
the links that lead to it from every run row."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from contracts.models import ContractProducer
from monitors.links import adf_run_url, databricks_run_url
from monitors.models import Connection
from tests.contracts.factories import make_contract
from tests.incidents.factories import make_analysis, make_incident
from tests.monitors.factories import make_connection, make_pipeline, make_retry_attempt, make_run

JSON_ERROR = (
    '{\n    "errorCode": "2011",\n    "message": "Operation on target Load failed: {\\"StatusCode\\":\\"DF-Executor\\",'
    '\\"Message\\":\\"Job failed due to reason: The access key of storage account lakeprod is wrong\\"}",\n'
    '    "failureType": "UserError"\n}'
)


@pytest.mark.django_db
def test_run_page_shows_facts_error_analysis_attempts_and_incident(viewer_client):
    run = make_run(error_message=JSON_ERROR)
    make_analysis(run, summary="The storage key is wrong", root_cause="Rotated key", recommended_actions=["Renew it"])
    make_retry_attempt(run, error_message="rerun refused")
    incident = make_incident(run, title="nightly: The access key of storage account lakeprod is wrong")

    response = viewer_client.get(f"/runs/{run.pk}/")

    html = response.content.decode()
    assert response.status_code == 200
    assert '<h1 id="run-title">The access key of storage account lakeprod is wrong</h1>' in html
    assert "&quot;errorCode&quot;: &quot;2011&quot;" in html  # the full error, escaped
    for text in ("The storage key is wrong", "Rotated key", "Renew it", "rerun refused", f"#{incident.pk} "):
        assert text in html
    assert f'href="/pipelines/{run.pipeline_id}/"' in html
    assert f'href="{incident.get_absolute_url()}"' in html
    assert f'hx-get="/contracts/fed-by/pipeline/{run.pipeline_id}/"' in html


@pytest.mark.django_db
def test_run_page_unknown_run_is_404(viewer_client):
    assert viewer_client.get("/runs/999999/").status_code == 404


@pytest.mark.django_db
def test_run_page_needs_a_role(client, no_role_user):
    run = make_run()
    client.force_login(no_role_user)

    assert client.get(f"/runs/{run.pk}/").status_code == 403


@pytest.mark.django_db
def test_run_page_query_count_constant(viewer_client):
    run = make_run()

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert viewer_client.get(f"/runs/{run.pk}/").status_code == 200
        return len(captured)

    few = queries()
    make_analysis(run)
    for n in range(1, 8):
        make_retry_attempt(run, attempt_number=n, idempotency_key=f"{run.pk}:{n}", rerun=make_run(run.pipeline))
        make_incident(run)

    assert queries() == few


@pytest.mark.django_db
def test_run_rows_link_to_the_run_page(viewer_client):
    run = make_run(error_message=JSON_ERROR)
    incident = make_incident(run)
    make_analysis(run, incident=incident)

    pages = ["/runs/", f"/pipelines/{run.pipeline_id}/", incident.get_absolute_url()]
    for page in pages:
        html = viewer_client.get(page).content.decode()
        assert f'href="/runs/{run.pk}/"' in html, page
        assert '<span class="error-text">{' not in html and "The access key of storage account lakeprod" in html


@pytest.mark.django_db
def test_run_platform_links_adf_and_databricks(viewer_client):
    adf = make_run(make_pipeline(make_connection(subscription_id="sub 1", resource_group="rg/x", factory_name="f")))
    dbx_connection = make_connection(kind=Connection.Kind.DATABRICKS, host="http://127.0.0.1:8765/")
    dbx = make_run(make_pipeline(dbx_connection, external_id="684127"), external_run_id="9123")

    adf_html = viewer_client.get(f"/runs/{adf.pk}/").content.decode()
    dbx_html = viewer_client.get(f"/runs/{dbx.pk}/").content.decode()

    expected = (
        f"https://adf.azure.com/en/monitoring/pipelineruns/{adf.external_run_id}?factory=/subscriptions/sub%201"
        "/resourceGroups/rg%2Fx/providers/Microsoft.DataFactory/factories/f"
    )
    assert f'href="{expected}" rel="noopener noreferrer" target="_blank"' in adf_html
    assert 'href="http://127.0.0.1:8765/jobs/684127/runs/9123" rel="noopener noreferrer" target="_blank"' in dbx_html


def test_platform_urls_quote_parts_and_refuse_other_schemes():
    assert databricks_run_url(host="javascript:alert(1)//", job_id="1", run_id="2") is None
    assert databricks_run_url(host="ftp://example.com", job_id="1", run_id="2") is None
    assert databricks_run_url(host="https://user:pw@adb-1.azuredatabricks.net/?o=1#x", job_id="1", run_id="2") == (
        "https://adb-1.azuredatabricks.net/jobs/1/runs/2"
    )
    assert databricks_run_url(host="https://h", job_id="../x", run_id='"><b>') == (
        "https://h/jobs/..%2Fx/runs/%22%3E%3Cb%3E"
    )
    assert adf_run_url(subscription_id="", resource_group="rg", factory_name="f", run_id="r") is None


@pytest.mark.django_db
def test_contracts_fed_by_a_pipeline(viewer_client):
    pipeline = make_pipeline(name="pl_load_orders")
    fed = make_contract(name="orders")
    make_contract(name="other")
    ContractProducer.objects.create(contract=fed, connection=pipeline.connection, pipeline_pattern="pl_load_*")

    fragment = viewer_client.get(f"/contracts/fed-by/pipeline/{pipeline.pk}/", headers={"HX-Request": "true"})
    page = viewer_client.get(f"/contracts/fed-by/pipeline/{pipeline.pk}/")

    assert f'href="/contracts/{fed.pk}/"' in fragment.content.decode() and "other" not in fragment.content.decode()
    assert "<html" not in fragment.content.decode() and "<html" in page.content.decode()
    assert viewer_client.get("/contracts/fed-by/pipeline/999999/").status_code == 404
