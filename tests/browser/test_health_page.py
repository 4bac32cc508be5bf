"""The Health page in a real browser as a Viewer, at desktop and phone width: worst first, the components, the trend
sparklines, no sideways scrolling on a phone (rows become cards), and the dashboard's health tiles."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from aimsweb.roles import Role
from insights.models import ExpectedSchedule
from tests.browser.conftest import assert_no_console_errors, shot
from tests.browser.test_pages import OVERFLOW
from tests.contracts.factories import make_contract
from tests.insights.factories import add_runs, make_check, make_missed_run_incident
from tests.monitors.factories import make_pipeline

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

# The results scroller itself must not scroll sideways either (OVERFLOW excuses what is inside a .table-wrap).
RESULTS_SCROLL = (
    "() => { const el = document.querySelector('#health-results'); return [el.scrollWidth, el.clientWidth]; }"
)


def _world() -> None:
    now = timezone.now()
    add_runs(make_pipeline(name="pl_healthy_orders"), "ssssssss", now=now)
    failing = make_pipeline(name="pl_failing_customers_with_a_rather_long_name_for_a_phone")
    add_runs(failing, "sfsfffrs", now=now)
    ExpectedSchedule.objects.create(
        pipeline=failing, source=ExpectedSchedule.Source.LEARNED, name="learnt", cron="0 2 * * *", seen_at=now
    )
    make_missed_run_incident(failing, expected_at=now - timedelta(hours=5))
    make_pipeline(name="pl_idle")
    contract = make_contract(name="orders")
    for day in range(4):
        make_check(contract, table="orders", failed=day % 2 == 0, fresh=True, at=now - timedelta(days=day + 1))


def test_health_page_worst_first_components_sparklines_at_desktop_and_phone(make_user, page_for):
    _world()
    page = page_for(make_user("vera", Role.VIEWER), width=1280, height=800)

    page.goto("/health/")

    names = page.get_by_test_id("health-name")
    expect(names).to_have_count(4)
    assert names.all_inner_texts()[0].startswith("pl_failing_customers")
    assert names.all_inner_texts()[-1] == "pl_idle"
    assert names.all_inner_texts()[1:3] == ["orders / orders", "pl_healthy_orders"]
    first = page.get_by_test_id("health-row").first
    expect(first.get_by_test_id("score")).to_contain_text("Poor")
    expect(first.get_by_role("list", name="Components of the score")).to_contain_text("Success rate")
    expect(first.get_by_role("list", name="Components of the score")).to_contain_text("Runs on schedule")
    expect(first.get_by_test_id("open-incidents")).to_have_text("1")
    spark = first.locator("svg.spark")
    expect(spark).to_be_visible()
    assert spark.get_attribute("role") == "img" and "Score each day" in (spark.get_attribute("aria-label") or "")
    page.get_by_text("How the score is computed").click()
    expect(page.get_by_role("rowheader", name="Independence from retries")).to_be_visible()
    shot(page, "health-1280")

    page.set_viewport_size({"width": 390, "height": 844})
    overflow = page.evaluate(OVERFLOW)
    assert overflow["scrollWidth"] <= overflow["innerWidth"] + 1, f"health overflows at 390 px: {overflow}"
    scroll_width, client_width = page.evaluate(RESULTS_SCROLL)
    assert scroll_width <= client_width + 1, "the health rows scroll sideways at 390 px"
    expect(page.get_by_role("columnheader", name="Score")).to_be_hidden()  # cards, not a table
    expect(first.locator("svg.spark")).to_be_visible()
    shot(page, "health-390")

    page.get_by_label("Kind").select_option("table")
    expect(names).to_have_count(1)
    expect(names.first).to_have_text("orders / orders")
    assert_no_console_errors(page)


def test_dashboard_health_tiles_load_and_link_to_poor_subjects(make_user, page_for):
    _world()
    page = page_for(make_user("vera", Role.VIEWER), width=1280, height=800)

    page.goto("/")

    tile = page.get_by_test_id("tile-poor")
    expect(tile).to_contain_text("Below 70")
    expect(page.get_by_test_id("tile-missed")).to_contain_text("1")
    tile.get_by_role("link").click()
    page.wait_for_url("**/health/?band=poor")
    expect(page.get_by_test_id("health-name")).to_have_count(1)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/")
    expect(page.get_by_test_id("tile-anomalies")).to_be_visible()
    overflow = page.evaluate(OVERFLOW)
    assert overflow["scrollWidth"] <= overflow["innerWidth"] + 1, f"dashboard overflows at 390 px: {overflow}"
    assert_no_console_errors(page)
