"""An incident left unacknowledged escalates to the person on call now (an e-mail to them with a signed link), who
opens the link in a browser and acknowledges with one tap; the header names them; a Viewer reads the schedules."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from aimsweb.roles import Role
from incidents.models import EscalationStep, Incident, NotificationChannel, NotificationRoute
from incidents.services import notifications_tick
from tests.browser.conftest import assert_no_console_errors, shot
from tests.incidents.factories import make_incident
from tests.oncall.factories import make_contact, make_schedule

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_escalation_reaches_the_on_call_who_acknowledges_from_the_link(make_user, page_for, settings):
    settings.AIMS_LLM_MODEL = ""
    alice, bob = make_user("alice", Role.RESPONDER), make_user("bob", Role.RESPONDER)
    make_contact(alice, email="alice@example.com")
    schedule = make_schedule(alice, bob)
    team = NotificationChannel.objects.create(name="team mail", kind="email", recipients="team@example.com")
    route = NotificationRoute.objects.create(name="all")
    route.channels.add(team)
    EscalationStep.objects.create(route=route, after_minutes=15, oncall_schedule=schedule).channels.add(team)
    incident = make_incident(paged_at=timezone.now() - timedelta(minutes=20))
    mail.outbox.clear()

    notifications_tick()

    (to_alice,) = [m for m in mail.outbox if m.to == ["alice@example.com"]]
    link = re.search(r"Acknowledge: (\S+)", to_alice.body).group(1)
    path = link.removeprefix(settings.AIMS_BASE_URL)
    assert path.startswith(f"/incidents/{incident.pk}/ack/")

    page = page_for(alice)
    page.goto(path)
    expect(page.get_by_test_id("oncall-header")).to_contain_text("On call: alice")
    expect(page.get_by_test_id("ack-incident-title")).to_have_text(incident.title)
    assert Incident.objects.get(pk=incident.pk).status == Incident.Status.TRIGGERED  # opening the link changes nothing
    shot(page, "oncall-ack-link")
    page.get_by_test_id("ack-button").click()
    page.wait_for_url(f"**/incidents/{incident.pk}/")
    expect(page.get_by_test_id("status")).to_have_text("Acknowledged")
    expect(page.get_by_test_id("incident-oncall")).to_contain_text("alice (Primary)")
    assert_no_console_errors(page)
    assert Incident.objects.get(pk=incident.pk).events.get(kind="acknowledged").actor_user == alice


def test_viewer_reads_the_schedules_from_the_nav(make_user, page_for):
    alice = make_user("alice", Role.RESPONDER)
    make_schedule(alice)
    make_schedule(make_user("a-rather-long-username-for-a-phone", Role.RESPONDER), name="Database secondary")
    page = page_for(make_user("vera", Role.VIEWER))
    page.get_by_role("navigation", name="Main").get_by_role("link", name="On call").click()
    expect(page.get_by_test_id("on-call-now").filter(has_text="alice")).to_have_count(1)
    page.get_by_role("link", name="Primary", exact=True).click()
    expect(page.get_by_role("heading", name="Shifts, next 14 days")).to_be_visible()
    expect(page.get_by_role("link", name="Edit this schedule")).to_have_count(0)
    shot(page, "oncall-schedule")
    page.set_viewport_size({"width": 390, "height": 844})
    for path in ("/oncall/", page.url):
        page.goto(path)
        width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
        assert width[0] <= width[1] + 1, f"{path} overflows at 390 px: {width}"
    shot(page, "oncall-schedule-390")
    assert_no_console_errors(page)
