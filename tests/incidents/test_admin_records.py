"""The admin only reads the delivery log and retry attempts, shows an incident's tickets and deliveries, and lists,
filters and searches every notification model."""

from datetime import timedelta

import pytest
from django.contrib import admin as django_admin
from django.utils import timezone

from incidents.models import EscalationStep, Notification, NotificationRoute, TicketLink
from monitors.models import MaintenanceWindow
from tests.incidents.admin_helpers import make_channel
from tests.incidents.factories import make_incident
from tests.monitors.factories import make_connection, make_retry_attempt

LOG_URL = "/admin/incidents/notification/"

# --- Read-only records -------------------------------------------------------------------------------------------


@pytest.fixture
def delivery(db) -> Notification:
    incident = make_incident(title="sales_daily: source timed out")
    return Notification.objects.create(
        channel=make_channel(),
        incident=incident,
        event=Notification.Event.OPENED,
        generation=1,
        dedup_key=f"{incident.pk}:1:opened",
        status=Notification.Status.RETRYING,
        headline="Incident opened",
        attempts=2,
        last_status_code=503,
        last_error="HTTP 503: busy",
    )


@pytest.mark.django_db
def test_admin_notification_log_is_read_only(admin_client_, delivery):
    change_url = f"{LOG_URL}{delivery.pk}/change/"

    listing = admin_client_.get(LOG_URL, {"status": "retrying", "q": "busy"})
    page = admin_client_.get(change_url)
    add = admin_client_.get(f"{LOG_URL}add/")
    post = admin_client_.post(change_url, {"status": "sent"})
    delete = admin_client_.post(f"{LOG_URL}{delivery.pk}/delete/", {"post": "yes"})

    assert list(listing.context["cl"].result_list) == [delivery]
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert (add.status_code, post.status_code, delete.status_code) == (403, 403, 403)
    delivery.refresh_from_db()
    assert delivery.status == Notification.Status.RETRYING


@pytest.mark.django_db
def test_admin_incident_page_shows_tickets_and_deliveries(admin_client_, delivery):
    TicketLink.objects.create(incident=delivery.incident, system="Jira", key="OPS-1234")

    page = admin_client_.get(f"/admin/incidents/incident/{delivery.incident.pk}/change/").content.decode()

    assert "OPS-1234" in page
    assert "HTTP 503: busy" in page
    assert "Opened by nightly run" in page  # the timeline is still there


@pytest.mark.django_db
def test_admin_retry_attempt_list_shows_rerun_id(admin_client_):
    make_retry_attempt(external_rerun_id="rerun-7781")

    listing = admin_client_.get("/admin/remediation/retryattempt/").content.decode()

    assert "rerun-7781" in listing
    assert admin_client_.get("/admin/remediation/retryattempt/add/").status_code == 403


@pytest.fixture
def notification_rows(delivery):
    """A row of each notification model, under a second connection too, so related filters have a choice."""
    channel = delivery.channel
    make_channel(name="ops-mail", kind="email", recipients="ops@example.com")
    for n, connection in enumerate([make_connection(), make_connection()]):
        route = NotificationRoute.objects.create(name=f"route-{n}", connection=connection)
        route.channels.set([channel])
        EscalationStep.objects.create(route=route, after_minutes=15).channels.set([channel])
        now = timezone.now()
        MaintenanceWindow.objects.create(
            name=f"window-{n}", connection=connection, starts_at=now, ends_at=now + timedelta(hours=1)
        )
    TicketLink.objects.create(incident=delivery.incident, system="Jira", key="OPS-1")


def _lookup(obj, path: str) -> str:
    for part in path.split("__"):
        obj = getattr(obj, part)
    return str(obj)


NOTIFICATION_MODELS = ["notificationchannel", "notificationroute", "escalationstep", "monitors.maintenancewindow"]
NOTIFICATION_MODELS += ["notification", "ticketlink"]


@pytest.mark.django_db
@pytest.mark.parametrize("model_name", NOTIFICATION_MODELS)
def test_admin_lists_filters_and_searches_notification_models(admin_client_, notification_rows, model_name):
    app_label, _, model_name = model_name.rpartition(".")
    model_admin = next(a for m, a in django_admin.site._registry.items() if m._meta.model_name == model_name)
    url = f"/admin/{app_label or 'incidents'}/{model_name}/"

    listing = admin_client_.get(url)
    row = listing.context["cl"].result_list[0]
    search = admin_client_.get(url, {"q": _lookup(row, model_admin.search_fields[0])})
    miss = admin_client_.get(url, {"q": "no-such-thing-zzz"})

    assert listing.status_code == search.status_code == miss.status_code == 200
    assert len(listing.context["cl"].filter_specs) == len(model_admin.list_filter) > 0
    assert row in search.context["cl"].result_list
    assert miss.context["cl"].result_count == 0
    assert admin_client_.get(f"{url}{row.pk}/change/").status_code == 200
