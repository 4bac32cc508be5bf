"""The pages in a real browser, as a Responder and as a Viewer, on a desktop and on a phone-sized screen."""

import pytest
from playwright.sync_api import Page, expect

from aimsweb.roles import Role
from incidents.models import FailureAnalysis, Incident, IncidentEvent
from tests.browser.conftest import assert_no_console_errors, shot
from tests.incidents.factories import make_analysis, make_incident
from tests.monitors.factories import make_run

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
# Sideways overflow of the document, and what causes it: elements sticking out on the right that are not inside a
# .table-wrap scroller (or that escape it, being absolutely positioned), without the ancestors they push out.
OVERFLOW = r"""() => {
  const out = (el) => el.checkVisibility() && el.getBoundingClientRect().right > window.innerWidth + 1;
  const escapes = (el) =>
    !el.parentElement.closest(".table-wrap") || ["absolute", "fixed"].includes(getComputedStyle(el).position);
  const culprits = [...document.body.querySelectorAll("*")].filter((el) => out(el) && escapes(el));
  const leaves = culprits.filter((el) => !culprits.some((other) => other !== el && el.contains(other)));
  const classes = (el) => (el.getAttribute("class") || "").trim().split(/\s+/).filter(Boolean);
  const name = (el) => [el.tagName.toLowerCase() + (el.id ? "#" + el.id : ""), ...classes(el)].join(".");
  return {
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: window.innerWidth,
    culprits: leaves.slice(0, 5).map(name),
  };
}"""

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def _incident_with_analysis() -> Incident:
    """An incident opened by one failed run, with its analysis counted in it (as triage leaves them)."""
    run = make_run(
        error_message="Copy sales failed: source timed out\nat ODBC driver line 2",
        error_trace="Traceback (most recent call last):\n  File odbc.py, line 42, in connect",
    )
    analysis = make_analysis(
        run,
        summary="The nightly source database timed out.",
        root_cause="The source server was restarted during the copy.",
        recommended_actions=["Check the source server's restart schedule", "Rerun from the failed activity"],
    )
    incident = make_incident(run, analysis=analysis)
    FailureAnalysis.objects.filter(pk=analysis.pk).update(incident=incident)
    return incident


def _check_page(page: Page, name: str) -> None:
    """Once its live connection (if any) is up, at desktop and phone width: a screenshot, the nav shows, nothing
    overflows sideways at 390 px but inside table scrollers; and nothing was logged as an error."""
    indicator = page.locator("[data-live-indicator]")
    if indicator.count():
        expect(indicator.first).to_have_text("Live")
    for label, size in (("1280", DESKTOP), ("390", PHONE)):
        page.set_viewport_size(size)
        shot(page, f"{name}-{label}")
        if label == "390":  # the one-row phone header: the nav opens from the Menu button
            expect(page.get_by_role("navigation", name="Main")).to_be_hidden()
            page.get_by_role("button", name="Menu").click()
        expect(page.get_by_role("navigation", name="Main")).to_be_visible()
        if label == "390":
            overflow = page.evaluate(OVERFLOW)
            assert overflow["scrollWidth"] <= overflow["innerWidth"] + 1, f"{name} overflows at 390 px: {overflow}"
    assert_no_console_errors(page)


def test_login_form_signs_in_each_role_and_rejects_a_wrong_password(make_user, page_for, browser, aims_server):
    for username, role in (("rory", Role.RESPONDER), ("vera", Role.VIEWER)):
        page = page_for(make_user(username, role))

        expect(page.get_by_test_id("username")).to_have_text(username)
        expect(page.get_by_test_id("role")).to_have_text(role.value)

    context = browser.new_context(base_url=aims_server.url)
    try:
        page = context.new_page()
        page.goto("/incidents/")
        page.get_by_label("Username").fill("rory")
        page.get_by_label("Password").fill("not the password")
        page.get_by_role("button", name="Log in").click()

        expect(page.get_by_role("alert")).to_contain_text("correct username and password")
        assert "/login/" in page.url
        shot(page, "login-wrong-password")
    finally:
        context.close()


@pytest.mark.parametrize("role", [Role.RESPONDER, Role.VIEWER])
def test_pages_render_at_desktop_and_phone_width_without_overflow_or_console_errors(role, make_user, page_for):
    incident = _incident_with_analysis()
    page = page_for(make_user("someone", role))
    slug = role.value.lower()

    page.goto("/")
    _check_page(page, f"dashboard-{slug}")
    page.goto("/incidents/")
    expect(page.locator(f"#incident-{incident.pk}")).to_contain_text(incident.title)
    _check_page(page, f"incident-list-{slug}")
    page.goto(f"/incidents/{incident.pk}/")
    expect(page.get_by_role("heading", level=1)).to_have_text(incident.title)
    expect(page.get_by_text("The nightly source database timed out.")).to_be_visible()
    _check_page(page, f"incident-{slug}")
    page.goto("/runs/")
    expect(page.locator(f"#run-{incident.latest_run_id}")).to_be_visible()
    _check_page(page, f"runs-{slug}")


def test_incident_page_shows_actions_to_a_responder_and_none_to_a_viewer(make_user, page_for):
    incident = _incident_with_analysis()
    responder = page_for(make_user("rory", Role.RESPONDER))
    viewer = page_for(make_user("vera", Role.VIEWER))

    for page in (responder, viewer):
        page.goto(f"/incidents/{incident.pk}/")
        expect(page.get_by_test_id("status")).to_have_text("Triggered")

    expect(responder.locator('form[action$="/acknowledge/"]')).to_have_count(1)
    expect(responder.get_by_role("group", name="Actions")).to_be_visible()
    expect(viewer.locator('form[action$="/acknowledge/"]')).to_have_count(0)
    expect(viewer.get_by_role("group", name="Actions")).to_have_count(0)
    # The only button a Viewer gets, besides copying links.
    expect(viewer.get_by_role("button").filter(has_not_text="Copy link")).to_have_text(["Log out"])


def test_incident_list_goes_live_over_the_websocket(make_user, page_for):
    page = page_for(make_user("vera", Role.VIEWER))

    page.goto("/incidents/")

    expect(page.locator("[data-live-indicator]")).to_have_text("Live")
    assert_no_console_errors(page)


def test_acknowledge_as_responder_changes_the_status_badge(make_user, page_for):
    incident = _incident_with_analysis()
    page = page_for(make_user("rory", Role.RESPONDER))
    page.goto(f"/incidents/{incident.pk}/")

    page.get_by_role("button", name="Acknowledge").click()

    expect(page.get_by_test_id("status")).to_have_text("Acknowledged")
    expect(page.get_by_role("button", name="Acknowledge")).to_have_count(0)
    assert page.url.endswith(f"/incidents/{incident.pk}/")  # swapped in place by htmx, no navigation
    incident.refresh_from_db()
    assert incident.status == Incident.Status.ACKNOWLEDGED
    assert incident.events.filter(kind=IncidentEvent.Kind.ACKNOWLEDGED).exists()
    shot(page, "incident-acknowledged-responder")
    assert_no_console_errors(page)
