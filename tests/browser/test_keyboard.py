"""Keyboard triage on the incident list: j/k move a visible focus, x selects, a acknowledges; "/" goes to the
search box (where letters are typed, not shortcuts); "?" opens the shortcut sheet."""

import pytest
from playwright.sync_api import expect

from aimsweb.roles import Role
from incidents.models import Incident
from tests.browser.conftest import assert_no_console_errors, shot
from tests.incidents.factories import make_incident

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_keyboard_triage_acknowledges_three_incidents(make_user, page_for):
    incidents = [make_incident(title=f"keyboard incident {number}") for number in range(3)]
    bystander = make_incident(title="left alone", status=Incident.Status.TRIGGERED)
    page = page_for(make_user("rory", Role.RESPONDER))
    page.goto("/incidents/?q=keyboard")
    expect(page.locator("[data-live-indicator]")).to_have_text("Live")
    expect(page.locator("#incident-rows > tr[id]")).to_have_count(3)

    page.keyboard.press("j")
    expect(page.locator("tr.kb-focus")).to_have_count(1)
    page.keyboard.press("x")
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("k")
    page.keyboard.press("j")
    page.keyboard.press("x")
    page.keyboard.press("k")
    page.keyboard.press("x")
    expect(page.locator('input[name=ids][form="incident-bulk"]:checked')).to_have_count(3)
    shot(page, "keyboard-three-selected")
    page.keyboard.press("a")

    expect(page.locator("#incident-bulk-notice")).to_contain_text("Acknowledged 3")
    expect(page.locator("#incident-rows .status-acknowledged")).to_have_count(3)
    assert sorted(Incident.objects.filter(status=Incident.Status.ACKNOWLEDGED).values_list("pk", flat=True)) == sorted(
        incident.pk for incident in incidents
    )
    assert Incident.objects.get(pk=bystander.pk).status == Incident.Status.TRIGGERED
    assert_no_console_errors(page)


def test_keyboard_search_sheet_and_open(make_user, page_for):
    incident = make_incident(title="open me by keyboard")
    page = page_for(make_user("vera", Role.VIEWER))
    page.goto("/incidents/")
    expect(page.locator("[data-live-indicator]")).to_have_text("Live")

    page.keyboard.press("/")
    expect(page.locator("#filter-q")).to_be_focused()
    page.keyboard.type("jk")  # typed into the box, not taken as shortcuts
    expect(page.locator("#filter-q")).to_have_value("jk")
    expect(page.locator("tr.kb-focus")).to_have_count(0)
    page.locator("#filter-q").fill("")
    page.locator("#filter-q").blur()

    page.keyboard.press("?")
    expect(page.locator("#shortcut-sheet")).to_be_visible()
    shot(page, "keyboard-shortcut-sheet")
    page.keyboard.press("Escape")
    expect(page.locator("#shortcut-sheet")).to_be_hidden()

    expect(page.locator(f"#incident-{incident.pk}")).to_be_visible()
    page.keyboard.press("j")
    page.keyboard.press("o")
    page.wait_for_url(f"**/incidents/{incident.pk}/")
    assert_no_console_errors(page)
