"""Titles people read and runs linked everywhere, in a real browser: a run whose error is a JSON envelope gets a
short readable title on the incident list and page; a run row leads to the run's page, and from there to its
incident, its pipeline and its page in ADF Monitor or the Databricks workspace."""

import json

import pytest
from playwright.sync_api import Page, expect

from aimsweb.headline import HEADLINE_MAX
from aimsweb.roles import Role
from incidents.models import FailureAnalysis
from incidents.services import failure_triage
from monitors.models import Connection
from tests.browser.conftest import assert_no_console_errors, shot
from tests.browser.test_pages import OVERFLOW, PHONE
from tests.monitors.factories import make_connection, make_pipeline, make_run

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

JSON_ERROR = json.dumps(
    {
        "errorCode": "2011",
        "message": "Operation on target Load orders failed: "
        + json.dumps(
            {
                "StatusCode": "DF-Executor-InvalidCredential",
                "Message": "Job failed due to reason: The access key of storage account lakeprod was rejected "
                "by the service because it was rotated on the first of the month and the linked service still "
                "holds the old one, so every read of the orders folder fails",
                "Details": "",
            }
        ),
        "failureType": "UserError",
        "target": "Load orders",
    },
    indent=4,
)


@pytest.fixture(autouse=True)
def offline(settings):
    settings.AIMS_LLM_MODEL = ""


def _triaged(run) -> int:
    """Triage as the task does (analysis, incident); returns the incident's id."""
    return failure_triage(run_id=run.pk).pk


def _title_of(page: Page, locator) -> str:
    text = locator.inner_text().strip()
    assert 0 < len(text) <= HEADLINE_MAX and "\n" not in text, text
    assert not text.endswith(("{", "[", ":", ",")) and "{" not in text, text
    return text


def test_json_error_gives_a_readable_title_on_the_list_and_the_page(make_user, page_for):
    run = make_run(make_pipeline(name="pl_orders_daily"), error_message=JSON_ERROR)
    incident_id = _triaged(run)
    page = page_for(make_user("rory", Role.RESPONDER))

    page.goto("/incidents/?status=all")
    row = page.locator(f"#incident-{incident_id}")
    listed = _title_of(page, row.locator(".incident-title a"))
    assert listed.startswith("pl_orders_daily: The access key of storage account lakeprod was rejected")
    assert listed.endswith("…")
    expect(row).not_to_contain_text("errorCode")

    row.locator(".incident-title a").click()
    expect(page.locator("#incident-title")).to_have_text(listed)
    expect(page.get_by_test_id("error")).to_contain_text('"errorCode": "2011"')  # the full error only here

    page.get_by_text("Edit title…").click()
    page.get_by_label("Title").fill("Orders load: storage key rotated")
    page.get_by_role("button", name="Save title").click()
    expect(page.locator("#incident-title")).to_have_text("Orders load: storage key rotated")
    expect(page.locator("#incident-timeline")).to_contain_text("Orders load: storage key rotated")
    assert_no_console_errors(page)


def test_run_row_leads_to_the_run_page_and_on_to_incident_pipeline_and_platform(make_user, page_for):
    adf_run = make_run(
        make_pipeline(make_connection(subscription_id="sub-1", resource_group="rg-data", factory_name="adf-prod")),
        error_message=JSON_ERROR,
    )
    incident_id = _triaged(adf_run)
    workspace = make_connection(kind=Connection.Kind.DATABRICKS, host="https://adb-123.4.azuredatabricks.net")
    dbx_run = make_run(make_pipeline(workspace, external_id="684127", name="job_orders"), external_run_id="9123")
    page = page_for(make_user("vera", Role.VIEWER))

    page.goto("/runs/")
    expect(page.locator(f"#run-{adf_run.pk}")).not_to_contain_text("{")
    page.locator(f"#run-{adf_run.pk}").get_by_test_id("run-link").click()
    page.wait_for_url(f"**/runs/{adf_run.pk}/")
    _title_of(page, page.locator("#run-title"))
    expect(page.get_by_test_id("run-error")).to_contain_text('"errorCode": "2011"')
    expect(page.get_by_test_id("run-retry-advice")).to_have_text("No")
    link = page.get_by_test_id("run-platform-link")
    expect(link).to_have_attribute(
        "href",
        f"https://adf.azure.com/en/monitoring/pipelineruns/{adf_run.external_run_id}?factory=/subscriptions/sub-1"
        "/resourceGroups/rg-data/providers/Microsoft.DataFactory/factories/adf-prod",
    )
    expect(link).to_have_attribute("rel", "noopener noreferrer")
    expect(link).to_have_attribute("target", "_blank")
    expect(page.get_by_test_id("contracts-fed-by")).to_contain_text("No data contract")  # loaded in place
    page.set_viewport_size(PHONE)
    shot(page, "run-detail-390")
    overflow = page.evaluate(OVERFLOW)
    assert overflow["scrollWidth"] <= overflow["innerWidth"] + 1, f"the run page overflows at 390 px: {overflow}"
    page.set_viewport_size({"width": 1280, "height": 900})

    page.get_by_test_id("run-incidents").get_by_role("link").click()
    page.wait_for_url(f"**/incidents/{incident_id}/")
    page.get_by_test_id("incident-pipeline").click()
    page.wait_for_url(f"**/pipelines/{adf_run.pipeline_id}/")
    expect(page.locator(f"#incident-{incident_id}")).to_be_visible()
    page.locator(f"#run-{adf_run.pk}").get_by_test_id("run-link").click()
    page.wait_for_url(f"**/runs/{adf_run.pk}/")

    page.goto(f"/runs/{dbx_run.pk}/")
    expect(page.get_by_test_id("run-platform-link")).to_have_attribute(
        "href", "https://adb-123.4.azuredatabricks.net/jobs/684127/runs/9123"
    )
    assert FailureAnalysis.objects.filter(run=adf_run).exists()
    assert_no_console_errors(page)
