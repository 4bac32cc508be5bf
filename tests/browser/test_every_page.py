"""Every page of the product, for each role that can see it: nothing overflows sideways on a 390 px phone, and a
screenshot set of each page at 1280 and 390 px, light and dark (var/test-artifacts/screenshots/...).

PAGES is the one list of the product's pages: a page added later is one line here."""

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, Page, expect

from aimsweb.roles import Role
from incidents.models import FailureAnalysis, Incident, IncidentEvent
from tests.browser.conftest import PASSWORD, AimsServer, shot
from tests.contracts.page_helpers import make_checked_contract, make_failed_check
from tests.incidents.factories import make_analysis, make_incident
from tests.monitors.factories import make_retry_policy, make_run
from tests.oncall.factories import make_schedule

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
ROLES = (Role.VIEWER, Role.RESPONDER, Role.ADMIN)
NO_ROLE = "no role"
ANONYMOUS = "anonymous"
# What sticks out on the right of a 390 px page, for the failure message (the check itself is the scroll width).
OVERFLOW = r"""() => {
  const out = (el) => el.checkVisibility() && el.getBoundingClientRect().right > window.innerWidth + 1;
  const culprits = [...document.body.querySelectorAll("*")].filter(out);
  const leaves = culprits.filter((el) => !culprits.some((other) => other !== el && el.contains(other)));
  const name = (el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
    ((el.getAttribute("class") || "").trim() ? "." + el.getAttribute("class").trim().split(/\s+/).join(".") : "");
  return { scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth,
           culprits: leaves.slice(0, 5).map(name) };
}"""


@dataclass(frozen=True)
class Rows:
    """What the pages show: one incident with its analysis, run, pipeline and timeline, and a checked contract."""

    incident: Incident
    contract_id: int
    schedule_id: int
    policy_id: int


@dataclass(frozen=True)
class ProductPage:
    name: str
    path: Callable[[Rows], str]
    roles: tuple[str, ...] = ROLES


PAGES = (
    ProductPage("dashboard", lambda rows: "/"),
    ProductPage("incidents", lambda rows: "/incidents/"),
    ProductPage("incident", lambda rows: f"/incidents/{rows.incident.pk}/"),
    ProductPage("pipelines", lambda rows: "/pipelines/"),
    ProductPage("pipeline", lambda rows: f"/pipelines/{rows.incident.pipeline_id}/"),
    ProductPage("runs", lambda rows: "/runs/"),
    ProductPage("run", lambda rows: f"/runs/{rows.incident.latest_run_id}/"),
    ProductPage("notifications", lambda rows: "/incidents/notifications/"),
    ProductPage("oncall", lambda rows: "/oncall/"),
    ProductPage("schedule", lambda rows: f"/oncall/{rows.schedule_id}/"),
    ProductPage("contact", lambda rows: "/account/contact/"),
    ProductPage("settings", lambda rows: "/settings/"),
    ProductPage("policies", lambda rows: "/settings/policies/"),
    ProductPage("policy", lambda rows: f"/settings/policies/{rows.policy_id}/"),
    ProductPage("routes", lambda rows: "/settings/routes/"),
    ProductPage("channels", lambda rows: "/settings/channels/"),
    ProductPage("maintenance", lambda rows: "/settings/maintenance/"),
    ProductPage("runbooks", lambda rows: "/settings/runbooks/"),
    ProductPage("contracts", lambda rows: "/contracts/"),
    ProductPage("contract", lambda rows: f"/contracts/{rows.contract_id}/"),
    ProductPage("health", lambda rows: "/health/"),
    ProductPage("password", lambda rows: "/password/"),
    ProductPage("api-keys", lambda rows: "/account/api-keys/"),
    ProductPage("api-docs", lambda rows: "/api/docs/"),
    ProductPage("api-redoc", lambda rows: "/api/redoc/"),
    ProductPage("not-found", lambda rows: "/no-such-page/"),
    ProductPage("forbidden", lambda rows: "/incidents/", roles=(NO_ROLE,)),
    ProductPage("login", lambda rows: "/login/", roles=(ANONYMOUS,)),
)
SCREENSHOT_ROLES = (Role.RESPONDER, NO_ROLE, ANONYMOUS)  # the set: each page once, as the role that sees most


def _rows(make_user) -> Rows:
    run = make_run(
        error_message="Copy sales failed: ErrorCode=SqlFailedToConnect, the source database timed out after 30 s "
        "while the gateway sqlgw-prod-weu-01.internal.example.com retried",
        error_trace="Traceback (most recent call last):\n  File odbc.py, line 42, in connect",
    )
    analysis = make_analysis(run, summary="The nightly source database timed out.")
    incident = make_incident(
        run, analysis=analysis, title="sales_daily: source database timed out (SqlFailedToConnect)"
    )
    FailureAnalysis.objects.filter(pk=analysis.pk).update(incident=incident)
    IncidentEvent.objects.create(incident=incident, kind=IncidentEvent.Kind.COMMENTED, params={"text": "looking"})
    contract = make_checked_contract("orders")
    make_failed_check(contract, violations=2)
    responder = make_user("on-call-person", Role.RESPONDER)
    schedule = make_schedule(responder)
    policy = make_retry_policy(name="Transient errors, three tries")
    return Rows(incident=incident, contract_id=contract.pk, schedule_id=schedule.pk, policy_id=policy.pk)


def _open(page: Page, path: str) -> None:
    page.goto(path)
    indicator = page.locator("[data-live-indicator]")
    if indicator.count():
        expect(indicator.first).to_have_text("Live")


def _login(browser: Browser, server: AimsServer, username: str | None) -> Page:
    context = browser.new_context(base_url=server.url, viewport=PHONE)
    context.set_default_timeout(10_000)
    page = context.new_page()
    if username is not None:
        page.goto("/login/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(lambda url: "/login/" not in url)
    return page


def test_every_page_fits_a_phone_for_each_role_and_is_screenshot(make_user, browser, aims_server):
    rows = _rows(make_user)
    users = {role: make_user(f"user-{str(role).replace(' ', '-').lower()}", role) for role in ROLES}
    users[NO_ROLE] = make_user("nobody")
    overflows = []
    for who in (*ROLES, NO_ROLE, ANONYMOUS):
        pages = [product_page for product_page in PAGES if who in product_page.roles]
        page = _login(browser, aims_server, None if who == ANONYMOUS else users[who].get_username())
        for product_page in pages:
            path = product_page.path(rows)
            page.set_viewport_size(PHONE)
            page.emulate_media(color_scheme="light")
            _open(page, path)
            overflow = page.evaluate(OVERFLOW)
            if overflow["scrollWidth"] > overflow["innerWidth"]:
                overflows.append(f"{product_page.name} as {who}: {overflow}")
            if who in SCREENSHOT_ROLES:
                for scheme in ("light", "dark"):
                    page.emulate_media(color_scheme=scheme)
                    for label, size in (("390", PHONE), ("1280", DESKTOP)):
                        page.set_viewport_size(size)
                        shot(page, f"pages/{product_page.name}-{label}-{scheme}")
        page.context.close()
    assert not overflows, "pages overflow sideways at 390 px:\n" + "\n".join(overflows)


def test_every_page_phone_header_is_one_row_with_a_menu(make_user, browser, aims_server):
    make_user("rory", Role.RESPONDER)
    page = _login(browser, aims_server, "rory")
    _open(page, "/incidents/")

    header = page.locator("header.topbar").bounding_box()
    brand = page.locator("header .brand").bounding_box()
    assert header is not None and brand is not None and header["height"] < brand["height"] * 3
    expect(page.get_by_role("navigation", name="Main")).to_be_hidden()
    page.get_by_role("button", name="Menu").click()
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()
    expect(page.get_by_role("button", name="Menu")).to_have_attribute("aria-expanded", "true")


def test_phone_incident_card_has_one_tap_acknowledge_and_last_seen(make_user, browser, aims_server):
    incident = make_incident(title="tap to acknowledge")
    make_user("rory", Role.RESPONDER)
    page = _login(browser, aims_server, "rory")
    _open(page, "/incidents/")
    card = page.locator(f"#incident-{incident.pk}")

    expect(card.locator("time[data-relative]").first).to_be_visible()
    card.get_by_role("button", name=f"Acknowledge incident #{incident.pk}").click()

    expect(page.locator("#incident-bulk-notice")).to_contain_text("Acknowledged 1")
    assert Incident.objects.get(pk=incident.pk).status == Incident.Status.ACKNOWLEDGED
    shot(page, "phone-one-tap-acknowledged")
