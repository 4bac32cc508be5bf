"""Safe retries and notes in a real browser: a retry the analysis advises against asks first (with its reason), a
half-typed comment survives Acknowledge and a reload, and a hostile note is rendered harmless."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from aimsweb.roles import Role
from incidents.models import FailureAnalysis
from incidents.services import Actor, incident_comment
from remediation.models import RetryAttempt
from tests.browser.conftest import assert_no_console_errors, shot
from tests.browser.test_pages import OVERFLOW, PHONE
from tests.incidents.incident_page_helpers import make_failed_incident
from tests.monitors.factories import make_retry_attempt, make_retry_policy

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

REASON = "The target table's schema changed: column amount is gone."


def _open(page: Page, path: str) -> Page:
    page.goto(path)
    expect(page.locator("[data-live-indicator]").first).to_have_text("Live")
    return page


def test_retry_not_advised_asks_first_cancel_keeps_it_confirm_starts_it(make_user, page_for):
    incident = make_failed_incident()
    FailureAnalysis.objects.filter(incident=incident).update(should_retry=False, root_cause=REASON)
    page = _open(page_for(make_user("rory", Role.RESPONDER)), f"/incidents/{incident.pk}/")
    slot = page.locator(f"#run-retry-{incident.latest_run_id}")

    slot.get_by_role("button", name="Retry now").click()
    confirm = slot.get_by_test_id("retry-confirm")
    expect(confirm).to_be_visible()
    expect(confirm.get_by_test_id("retry-confirm-reason")).to_contain_text(REASON)
    shot(page, "retry-confirm")
    confirm.get_by_role("link", name="Cancel").click()
    expect(slot.get_by_role("button", name="Retry now")).to_be_visible()
    expect(slot.get_by_test_id("retry-confirm")).to_have_count(0)
    assert not RetryAttempt.objects.exists()

    slot.get_by_role("button", name="Retry now").click()
    slot.get_by_role("button", name="Retry anyway").click()
    expect(page.locator("#incident-attempts tr[id^=attempt-]")).to_have_count(1)
    assert RetryAttempt.objects.get().trigger == RetryAttempt.Trigger.MANUAL
    assert_no_console_errors(page)


def test_comment_draft_survives_acknowledge_and_reload(make_user, page_for):
    incident = make_failed_incident()
    page = _open(page_for(make_user("rory", Role.RESPONDER)), f"/incidents/{incident.pk}/")
    box = page.get_by_label("Comment")

    box.fill("Half-typed: the gateway was")
    page.get_by_role("button", name="Acknowledge").click()
    expect(page.get_by_test_id("status")).to_have_text("Acknowledged")
    expect(page.get_by_label("Comment")).to_have_value("Half-typed: the gateway was")

    page.reload()
    expect(page.get_by_label("Comment")).to_have_value("Half-typed: the gateway was")

    page.get_by_label("Comment").fill("The gateway was **restarted**")
    page.get_by_role("button", name="Add comment").click()
    expect(page.locator("#incident-events strong", has_text="restarted")).to_be_visible()
    expect(page.get_by_label("Comment")).to_have_value("")
    page.reload()
    expect(page.get_by_label("Comment")).to_have_value("")
    assert_no_console_errors(page)


HOSTILE = (
    "<script>alert('script')</script> <img src=x onerror=\"alert('img')\"> "
    "[click](javascript:alert('link')) [data](data:text/html,<script>alert(1)</script>) "
    "[runbook](https://wiki.example/runbook) **bold**"
)


def test_hostile_note_rendered_harmless(make_user, page_for):
    incident = make_failed_incident()
    incident_comment(incident_id=incident.pk, actor=Actor.of_user(make_user("rhea", Role.RESPONDER)), text=HOSTILE)
    page = page_for(make_user("vera", Role.VIEWER))
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

    _open(page, f"/incidents/{incident.pk}/")
    note = page.get_by_test_id("event-note").first

    expect(note.locator("strong")).to_have_text("bold")
    link = note.get_by_role("link", name="runbook")
    expect(link).to_have_attribute("href", "https://wiki.example/runbook")
    expect(link).to_have_attribute("rel", "noopener noreferrer nofollow")
    assert page.locator("[onerror], [onload], [onclick]").count() == 0
    assert note.locator("script, img, iframe").count() == 0
    hrefs = [a.get_attribute("href") or "" for a in note.locator("a").all()]
    assert all(href.startswith(("https://", "http://", "mailto:")) for href in hrefs), hrefs
    expect(note).to_contain_text("<script>alert('script')</script>")  # shown as text
    assert dialogs == []
    shot(page, "note-hostile")


def test_retry_badges_and_card_count_down_and_fit_a_phone(make_user, page_for):
    incident = make_failed_incident()
    make_retry_attempt(
        incident.latest_run,
        policy=make_retry_policy(name="Transient failures", max_attempts=3),
        status=RetryAttempt.Status.SCHEDULED,
        scheduled_for=timezone.now() + timedelta(minutes=30),
    )
    page = page_for(make_user("rory", Role.RESPONDER))
    countdown = re.compile(r"^retry 1/3 in \d{1,2}:\d\d$")

    for path in ("/", "/incidents/", "/runs/", f"/pipelines/{incident.pipeline_id}/", f"/incidents/{incident.pk}/"):
        page.set_viewport_size(PHONE)
        page.goto(path)
        expect(page.get_by_test_id("retry-badge").first).to_have_text(countdown)
        overflow = page.evaluate(OVERFLOW)
        assert overflow["scrollWidth"] <= overflow["innerWidth"] + 1, f"{path} overflows at 390 px: {overflow}"
    expect(page.get_by_test_id("retry-card")).to_contain_text("Transient failures")
    shot(page, "retry-card-390")
    page.get_by_test_id("retry-cancel").click()
    expect(page.get_by_test_id("retry-state")).to_have_text("Cancelled")
    expect(page.locator("#incident-events")).to_contain_text("cancelled by rory")
    assert_no_console_errors(page)
