"""Live updates end to end: a failure the simulator pushes as a webhook to a real server becomes an incident on the
pages people have open, and one person's acknowledgement reaches everyone else's page, with no reload."""

import re
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from playwright.sync_api import Page, expect

from aimsweb.roles import Role
from incidents.models import Incident, IncidentEvent
from incidents.realtime import incidents_changed_broadcast
from simulator.testing import SimulatorHandle, run_simulator
from tests.browser.conftest import AimsServer, assert_no_console_errors, shot
from tests.incidents.factories import make_incident
from tests.monitors.conftest import connect_to

SECRET = "browser-webhook-secret-0123456789"
CONNECTION = "sim-databricks-1"  # what connect_to() names the simulator's first Databricks workspace
JOB, STEP, CORPUS_ID = "orders_daily", "ingest_orders", "dbx-0085"  # a repeat of it is the same incident
LIVE_MS = 20_000  # the server processes a webhook inline (platform lookups, analysis, triage) before it pushes
IDLE_SECONDS = 12  # more than two rounds of the channel layer's 5-second blocking receive
ACTION_BUTTONS = re.compile(r"Acknowledge|Resolve|Silence|Assign|Reopen|Retry", re.IGNORECASE)

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def _open_live(page: Page, path: str) -> Page:
    """Open the page, wait for its websocket when it has one, and mark the document so a reload would show."""
    page.goto(path)
    indicator = page.locator("[data-live-indicator]")
    if indicator.count():
        expect(indicator.first).to_have_text("Live")
    page.evaluate("() => { window.aimsNotReloaded = true; }")
    return page


def _not_reloaded(page: Page) -> bool:
    return page.evaluate("() => window.aimsNotReloaded === true")


def _push_failures_to(server: AimsServer, sim: SimulatorHandle) -> None:
    """AIMS connections to the simulator, and the simulator posting Databricks failures to the server's webhook."""
    connection = connect_to(sim)[CONNECTION]
    connection.set_webhook_secret(SECRET)
    connection.save()
    sim.set_notify(databricks_url=f"{server.url}/hooks/databricks/{CONNECTION}/", secret=SECRET)


def _fail_job(sim: SimulatorHandle) -> None:
    assert sim.fail("databricks", JOB, step=STEP, corpus_id=CORPUS_ID)["notified"]


def test_live_broadcast_from_another_process_reaches_an_open_incident_list(make_user, page_for):
    """The shared channel layer: what the test process broadcasts (as a task worker would) reaches the server's
    consumers."""
    page = _open_live(page_for(make_user("vera", Role.VIEWER)), "/incidents/")
    incident = make_incident(title="orders_nightly: source timed out")

    # Not in this thread: Playwright's event loop runs here, and async_to_sync refuses to run beside it.
    with ThreadPoolExecutor(max_workers=1) as worker:
        worker.submit(incidents_changed_broadcast, incident_ids=[incident.pk]).result()

    expect(page.locator(f"#incident-{incident.pk}")).to_contain_text("orders_nightly: source timed out")
    assert _not_reloaded(page)


def test_live_change_made_on_one_server_reaches_a_page_open_on_another(
    make_user, page_for, aims_server, second_aims_server
):
    """Two server processes sharing the Redis channel layer: a Responder acknowledges on one, and the Viewer's list
    open on the other follows."""
    responder, viewer = make_user("rory", Role.RESPONDER), make_user("vera", Role.VIEWER)
    incident = make_incident(title="orders_nightly: source timed out")
    viewer_list = _open_live(page_for(viewer, server=aims_server), "/incidents/")
    expect(viewer_list.locator(f"#incident-{incident.pk}")).to_contain_text("Triggered")

    elsewhere = page_for(responder, server=second_aims_server)
    elsewhere.goto(f"/incidents/{incident.pk}/")
    elsewhere.locator('form[action$="/acknowledge/"]').get_by_role("button", name="Acknowledge").click()
    expect(elsewhere.get_by_test_id("status")).to_have_text("Acknowledged")

    expect(viewer_list.locator(f"#incident-{incident.pk}")).to_contain_text("Acknowledged")
    assert _not_reloaded(viewer_list)
    assert second_aims_server.url != aims_server.url


def test_live_failure_webhook_opens_an_incident_and_an_acknowledgement_reaches_a_viewer(
    make_user, page_for, aims_server
):
    responder, viewer = make_user("rory", Role.RESPONDER), make_user("vera", Role.VIEWER)
    dashboard = _open_live(page_for(responder), "/")
    responder_list = _open_live(page_for(responder), "/incidents/")
    viewer_list = _open_live(page_for(viewer), "/incidents/")

    with run_simulator("quiet") as sim:
        _push_failures_to(aims_server, sim)
        _fail_job(sim)

        # The incident appears on the open pages by itself.
        expect(responder_list.locator("tr[id^='incident-']")).to_have_count(1, timeout=LIVE_MS)
        incident = Incident.objects.get()
        expect(responder_list.locator(f"#incident-{incident.pk}")).to_contain_text(JOB)
        expect(viewer_list.locator(f"#incident-{incident.pk}")).to_contain_text("Triggered")
        expect(dashboard.locator(f"a[href$='/incidents/{incident.pk}/']").first).to_be_visible()
        assert all(_not_reloaded(page) for page in (dashboard, responder_list, viewer_list))
        shot(dashboard, "live-dashboard-new-incident")
        shot(viewer_list, "live-incident-list-new-incident-viewer")

        # The Responder acknowledges it from its page; the Viewer's list follows.
        responder_list.locator(f"#incident-{incident.pk} a[href$='/incidents/{incident.pk}/']").first.click()
        responder_list.wait_for_url(f"**/incidents/{incident.pk}/")
        responder_list.locator('form[action$="/acknowledge/"]').get_by_role("button", name="Acknowledge").click()
        expect(responder_list.get_by_test_id("status")).to_have_text("Acknowledged")
        shot(responder_list, "live-incident-acknowledged-responder")

        expect(viewer_list.locator(f"#incident-{incident.pk}")).to_contain_text("Acknowledged")
        assert _not_reloaded(viewer_list)
        expect(viewer_list.get_by_role("button", name=ACTION_BUTTONS)).to_have_count(0)
        shot(viewer_list, "live-incident-list-acknowledged-viewer")
        assert_no_console_errors(dashboard)
        assert_no_console_errors(viewer_list)

    incident.refresh_from_db()
    assert incident.status == Incident.Status.ACKNOWLEDGED
    assert incident.events.get(kind=IncidentEvent.Kind.ACKNOWLEDGED).actor_user == responder
    viewer_list.goto(f"/incidents/{incident.pk}/")
    expect(viewer_list.get_by_test_id("status")).to_have_text("Acknowledged")
    expect(viewer_list.locator('form[action$="/acknowledge/"]')).to_have_count(0)
    expect(viewer_list.get_by_role("button", name=ACTION_BUTTONS)).to_have_count(0)
    shot(viewer_list, "live-incident-viewer")


def test_live_incident_page_shows_a_repeat_failure_without_reload(make_user, page_for, aims_server):
    with run_simulator("quiet") as sim:
        _push_failures_to(aims_server, sim)
        _fail_job(sim)
        deadline = time.monotonic() + LIVE_MS / 1000
        while not Incident.objects.exists():
            assert time.monotonic() < deadline, "the first failure opened no incident"
            time.sleep(0.1)
        incident = Incident.objects.get()
        page = _open_live(page_for(make_user("vera", Role.VIEWER)), f"/incidents/{incident.pk}/")
        runs = page.locator("#incident-runs tr[id^='run-']")
        expect(runs).to_have_count(1)

        _fail_job(sim)

        occurrences = page.locator("#incident-facts div", has_text="Occurrences").locator("dd")
        expect(occurrences).to_have_text("2", timeout=LIVE_MS)
        expect(runs).to_have_count(2)
        assert _not_reloaded(page)
        shot(page, "live-incident-repeat-failure-viewer")
        assert_no_console_errors(page)


def test_live_idle_page_keeps_its_websocket(make_user, page_for, aims_server):
    page = page_for(make_user("vera", Role.VIEWER))
    page.add_init_script(
        "window.aimsSocketCloses = 0;"
        "document.addEventListener('htmx:wsClose', () => { window.aimsSocketCloses += 1; });"
    )
    _open_live(page, "/incidents/")

    page.wait_for_timeout(IDLE_SECONDS * 1000)

    assert page.evaluate("() => window.aimsSocketCloses") == 0
    assert "Exception inside application" not in aims_server.log.read_text()
