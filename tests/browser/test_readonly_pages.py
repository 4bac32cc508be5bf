"""As a Viewer in a real browser: no link on the incident, dashboard or pipeline pages ends on an admin login form,
every read-only settings page reads, and the incident page shows past incidents and the runbook."""

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from aimsweb.roles import Role
from incidents.models import FailureAnalysis, Incident, IncidentEvent, NotificationChannel, NotificationRoute, Runbook
from monitors.models import MaintenanceWindow
from tests.browser.conftest import assert_no_console_errors, shot
from tests.browser.test_pages import OVERFLOW, PHONE
from tests.incidents.factories import make_analysis, make_incident
from tests.monitors.factories import make_pipeline, make_retry_policy, make_run

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

SIGNATURE = "b" * 64
ADMIN_LOGIN_FORM = "form[action*='/admin/login/'], #login-form"


def _counted(pipeline, **fields) -> Incident:
    run = make_run(pipeline=pipeline)
    incident = make_incident(run, **fields)
    analysis = make_analysis(run, signature=SIGNATURE)
    FailureAnalysis.objects.filter(pk=analysis.pk).update(incident=incident)
    Incident.objects.filter(pk=incident.pk).update(analysis=analysis)
    return incident


@pytest.fixture
def world(make_user):
    make_user("grace", Role.ADMIN)
    pipeline = make_pipeline(name="sales_daily")
    earlier = _counted(pipeline, status=Incident.Status.RESOLVED, resolved_at=timezone.now())
    IncidentEvent.objects.create(incident=earlier, kind="resolved", note="Restarted the integration runtime")
    incident = _counted(pipeline)
    policy = make_retry_policy(name="Transient reruns")
    channel = NotificationChannel(name="ops-teams", kind="teams")
    channel.set_url("https://example.webhook.office.com/webhookb2/SECRET-PATH?sig=SECRET")
    channel.save()
    NotificationRoute.objects.create(name="Everything").channels.set([channel])
    now = timezone.now()
    MaintenanceWindow.objects.create(name="Patching", starts_at=now, ends_at=now + timedelta(hours=1))
    Runbook.objects.create(title="Sales load runbook", url="https://wiki.example.com/sales", pipeline_pattern="sales_*")
    IncidentEvent.objects.create(
        incident=incident,
        kind="retry_skipped",
        params={"reason": "advised_against", "reason_params": {"policy": policy.name, "policy_id": policy.pk}},
    )
    IncidentEvent.objects.create(
        incident=incident, kind="notified", params={"channel": str(channel), "channel_id": channel.pk, "event": "x"}
    )
    return {"incident": incident, "earlier": earlier, "pipeline": pipeline}


def test_viewer_never_reaches_admin_login(page_for, viewer, world, aims_server):
    page = page_for(viewer)
    origin = urlsplit(aims_server.url).netloc
    starts = ["/", reverse("incidents:detail", args=[world["incident"].pk])]
    starts.append(reverse("monitors:pipeline-detail", args=[world["pipeline"].pk]))
    targets: set[str] = set()
    for start in starts:
        page.goto(start)
        hrefs = page.eval_on_selector_all(
            "a[href]", "els => els.map(el => new URL(el.getAttribute('href'), location.href).href)"
        )
        for href in hrefs:
            parts = urlsplit(href)
            if parts.netloc == origin and parts.scheme in ("http", "https"):
                targets.add(parts.path + (f"?{parts.query}" if parts.query else ""))
    assert any(target.startswith("/settings/") for target in targets)
    assert len(targets) > 10
    for target in sorted(targets):
        response = page.goto(target)
        assert response is not None
        assert "/admin/login/" not in page.url, target
        assert page.locator(ADMIN_LOGIN_FORM).count() == 0, target
        assert response.status in (200, 403), target
    # Typed in by hand, an admin URL answers with whom to ask.
    response = page.goto("/admin/remediation/retrypolicy/")
    assert response is not None and response.status == 403
    expect(page.get_by_test_id("admins")).to_contain_text("grace")
    assert page.locator("input[name=password]").count() == 0
    shot(page, "forbidden-admin-viewer")


def test_viewer_reads_each_settings_page(page_for, viewer, world):
    page = page_for(viewer)
    page.goto("/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Settings").click()
    for title in ("Retry policies", "Notification routes", "Notification channels", "Maintenance windows", "Runbooks"):
        page.get_by_role("navigation", name="Settings").get_by_role("link", name=title).click()
        expect(page.get_by_role("heading", level=1)).to_have_text(title)
        rows = page.get_by_role("table", name=title).locator("tbody tr td:first-child a")
        expect(rows.first).to_be_visible()
        rows.first.click()
        expect(page.get_by_test_id("settings-facts")).to_be_visible()
        assert page.get_by_test_id("edit-in-admin").count() == 0
        assert "SECRET" not in page.content()
        shot(page, f"settings-{title.lower().replace(' ', '-')}-viewer")
        page.set_viewport_size(PHONE)
        overflow = page.evaluate(OVERFLOW)
        assert overflow["scrollWidth"] <= overflow["innerWidth"], (title, overflow)
        shot(page, f"settings-{title.lower().replace(' ', '-')}-viewer-390")
        page.set_viewport_size({"width": 1280, "height": 900})
    assert_no_console_errors(page)


def test_incident_page_shows_past_incidents_runbook_and_setting_links(page_for, viewer, world):
    page = page_for(viewer)
    page.goto(reverse("incidents:detail", args=[world["incident"].pk]))

    expect(page.get_by_test_id("past-summary")).to_contain_text("1 earlier incident with this signature")
    expect(page.get_by_test_id("past-summary")).to_contain_text("Restarted the integration runtime")
    expect(page.get_by_test_id("runbooks").get_by_role("link", name="Sales load runbook")).to_have_attribute(
        "href", "https://wiki.example.com/sales"
    )
    expect(page.get_by_test_id("signature-stats")).to_contain_text("sales_daily")
    shot(page, "incident-context-viewer")
    page.locator("#incident-events a[data-cites=policy]").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Transient reruns")
    assert_no_console_errors(page)
