"""The runs page live, with Pause: ingested runs appear without a reload; while paused they wait (the button counts
them) and come in on Resume. Copy link copies an incident's full address and says so."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import transaction
from playwright.sync_api import Page, expect

from aimsweb.roles import Role
from incidents.models import IncidentEvent
from monitors.services import runs_ingest
from tests.browser.conftest import assert_no_console_errors, shot
from tests.incidents.factories import make_incident
from tests.monitors.factories import make_connection
from tests.monitors.fakes import record

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def _ingest_elsewhere(connection, run_id: str) -> None:
    """As a poll task would: in another thread (Playwright's event loop runs in this one)."""

    def ingest() -> None:
        with transaction.atomic():
            runs_ingest(connection=connection, records=[record(run_id)], queue_detail=False)

    with ThreadPoolExecutor(max_workers=1) as worker:
        worker.submit(ingest).result()


def _open(page: Page, path: str) -> None:
    page.goto(path)
    expect(page.locator("[data-live-indicator]")).to_have_text("Live")
    page.evaluate("() => { window.aimsNotReloaded = true; }")


def test_runs_page_live_and_paused(make_user, page_for):
    connection = make_connection()
    page = page_for(make_user("vera", Role.VIEWER))
    _open(page, "/runs/")

    _ingest_elsewhere(connection, "live-run-1")
    expect(page.locator("#run-rows")).to_contain_text("live-run-1")

    page.get_by_role("button", name="Pause").click()
    _ingest_elsewhere(connection, "held-run-2")
    expect(page.locator("[data-live-pause]")).to_have_text("Resume (1 new)")
    expect(page.locator("#run-rows")).not_to_contain_text("held-run-2")
    shot(page, "runs-paused")

    page.locator("[data-live-pause]").click()
    expect(page.locator("#run-rows")).to_contain_text("held-run-2")
    expect(page.locator("[data-live-pause]")).to_have_text("Pause")
    assert page.evaluate("() => window.aimsNotReloaded === true")
    assert_no_console_errors(page)


def test_copy_link_copies_the_incident_address(make_user, page_for):
    incident = make_incident(title="copy my link")
    IncidentEvent.objects.create(incident=incident, kind=IncidentEvent.Kind.COMMENTED, params={"text": "noted"})
    page = page_for(make_user("vera", Role.VIEWER))
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto(f"/incidents/{incident.pk}/")

    page.get_by_role("button", name="Copy link to this incident").click()

    expect(page.get_by_role("button", name="Copy link to this incident")).to_have_text("Copied")
    copied = page.evaluate("() => navigator.clipboard.readText()")
    assert copied.endswith(f"/incidents/{incident.pk}/") and copied.startswith("http")
    assert_no_console_errors(page)
