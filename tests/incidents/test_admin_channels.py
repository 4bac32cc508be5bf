"""The admin edits notification channels, routes and maintenance windows with validation (bad input names the
field and saves nothing), never shows a channel's stored URL or secret, and only reads the delivery log."""

from datetime import timedelta

import pytest
from django.contrib import admin as django_admin
from django.core import mail
from django.db import connection as db_connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from incidents.models import (
    EscalationStep,
    Notification,
    NotificationChannel,
    NotificationRoute,
    TicketLink,
)
from monitors.models import MaintenanceWindow
from tests.admin_forms import admin_post_data
from tests.incidents.factories import make_incident
from tests.incidents.receivers import Reply
from tests.monitors.factories import make_connection, make_retry_attempt

CHANNEL_URL = "/admin/incidents/notificationchannel/"
ROUTE_URL = "/admin/incidents/notificationroute/"
WINDOW_URL = "/admin/monitors/maintenancewindow/"
LOG_URL = "/admin/incidents/notification/"

TEAMS_HOOK = "https://prod-42.westeurope.logic.azure.com:443/workflows/5e1f0c9d/triggers/manual/paths/invoke?sig=Zk9Qx7"
WEBHOOK_SECRET = "whsec-0123456789abcdef"

VALID_CHANNEL = {
    "name": "data-oncall",
    "kind": "teams",
    "enabled": "on",
    "url": TEAMS_HOOK,
    "signing_secret": "",
    "recipients": "",
    "rate_limit_count": "20",
    "rate_limit_minutes": "60",
}


def _form_errors(response) -> dict:
    return response.context["adminform"].form.errors


def _channel(name: str = "ops-teams", kind: str = "teams", url: str = TEAMS_HOOK, **fields) -> NotificationChannel:
    channel = NotificationChannel(name=name, kind=kind, **fields)
    if kind != "email":
        channel.set_url(url)
    if kind == "webhook":
        channel.set_signing_secret(WEBHOOK_SECRET)
    channel.save()
    return channel


# --- Channels -----------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_admin_channel_teams_url_stored_encrypted_never_shown(admin_client_):
    response = admin_client_.post(f"{CHANNEL_URL}add/", VALID_CHANNEL)

    assert response.status_code == 302
    channel = NotificationChannel.objects.get(name="data-oncall")
    assert channel.get_url() == TEAMS_HOOK
    assert "workflows" not in channel.url_encrypted
    assert channel.url_host == "https://prod-42.westeurope.logic.azure.com:443"
    page = admin_client_.get(f"{CHANNEL_URL}{channel.pk}/change/").content.decode()
    listing = admin_client_.get(CHANNEL_URL).content.decode()
    for html in (page, listing):
        assert "/workflows/" not in html and "Zk9Qx7" not in html and channel.url_encrypted not in html
        assert "prod-42.westeurope.logic.azure.com" in html
    assert "stored encrypted" in page


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://example.com/hook", "Use an https URL"),
        ("http://10.0.0.5:8080/hook", "Use an https URL"),
        ("ftp://files.example.com/hook", "Enter a valid URL"),
        ("hooks.example.com/abc", "Enter a valid URL"),
        ("", "Required for a Microsoft Teams channel"),
    ],
)
def test_admin_channel_bad_url_names_url_field_saves_nothing(admin_client_, url, message):
    response = admin_client_.post(f"{CHANNEL_URL}add/", {**VALID_CHANNEL, "url": url})

    assert response.status_code == 200
    errors = _form_errors(response)
    assert list(errors) == ["url"], errors
    assert message in " ".join(errors["url"])
    assert not NotificationChannel.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["http://127.0.0.1:9000/hook", "http://localhost:9000/hook"])
def test_admin_channel_loopback_http_url_accepted(admin_client_, settings, url):
    settings.AIMS_OUTBOUND_LOOPBACK_ORIGINS = ["http://127.0.0.1:9000", "http://localhost:9000"]  # the simulator's
    response = admin_client_.post(f"{CHANNEL_URL}add/", {**VALID_CHANNEL, "kind": "slack", "url": url})

    assert response.status_code == 302
    assert NotificationChannel.objects.get().get_url() == url


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("secret", "message"),
    [("", "Required for a generic webhook"), ("too-short", "at least 16 characters")],
)
def test_admin_channel_webhook_needs_signing_secret(admin_client_, secret, message):
    response = admin_client_.post(
        f"{CHANNEL_URL}add/",
        {**VALID_CHANNEL, "kind": "webhook", "url": "https://hooks.example.com/aims"} | {"signing_secret": secret},
    )

    assert response.status_code == 200
    errors = _form_errors(response)
    assert list(errors) == ["signing_secret"], errors
    assert message in " ".join(errors["signing_secret"])
    assert "hooks.example.com/aims" not in response.content.decode()  # typed secrets are not echoed back either
    assert not NotificationChannel.objects.exists()


@pytest.mark.django_db
def test_admin_channel_webhook_secret_stored_write_only(admin_client_):
    admin_client_.post(
        f"{CHANNEL_URL}add/",
        {**VALID_CHANNEL, "kind": "webhook", "url": "https://hooks.example.com/aims", "signing_secret": WEBHOOK_SECRET},
    )
    channel = NotificationChannel.objects.get()

    page = admin_client_.get(f"{CHANNEL_URL}{channel.pk}/change/").content.decode()

    assert channel.get_signing_secret() == WEBHOOK_SECRET
    assert WEBHOOK_SECRET not in page and channel.signing_secret_encrypted not in page
    assert "stored (encrypted)" in page


@pytest.mark.django_db
def test_admin_channel_signing_secret_for_teams_refused(admin_client_):
    response = admin_client_.post(f"{CHANNEL_URL}add/", {**VALID_CHANNEL, "signing_secret": WEBHOOK_SECRET})

    assert "signing_secret" in _form_errors(response)
    assert not NotificationChannel.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("recipients", "message"),
    [
        ("", "Give at least one email address"),
        ("oncall@example.com, not-an-address", "Not an email address: 'not-an-address'"),
    ],
)
def test_admin_channel_email_bad_recipients_name_field(admin_client_, recipients, message):
    response = admin_client_.post(
        f"{CHANNEL_URL}add/", {**VALID_CHANNEL, "kind": "email", "url": "", "recipients": recipients}
    )

    assert response.status_code == 200
    errors = _form_errors(response)
    assert list(errors) == ["recipients"], errors
    assert message in " ".join(errors["recipients"])
    assert not NotificationChannel.objects.exists()


@pytest.mark.django_db
def test_admin_channel_email_saved_without_url(admin_client_):
    response = admin_client_.post(
        f"{CHANNEL_URL}add/",
        {**VALID_CHANNEL, "kind": "email", "url": "", "recipients": "oncall@example.com\nlead@example.com"},
    )

    assert response.status_code == 302
    channel = NotificationChannel.objects.get()
    assert channel.recipient_list == ["oncall@example.com", "lead@example.com"]
    assert channel.url_encrypted == ""


@pytest.mark.django_db
def test_admin_channel_email_with_url_refused(admin_client_):
    response = admin_client_.post(
        f"{CHANNEL_URL}add/", {**VALID_CHANNEL, "kind": "email", "recipients": "oncall@example.com"}
    )

    assert "url" in _form_errors(response)
    assert not NotificationChannel.objects.exists()


@pytest.mark.django_db
def test_admin_channel_blank_url_on_change_keeps_stored_one(admin_client_):
    channel = _channel()
    url = f"{CHANNEL_URL}{channel.pk}/change/"
    page = admin_client_.get(url)

    response = admin_client_.post(url, admin_post_data(page, name="ops-teams-2", rate_limit_count="5"))

    assert response.status_code == 302
    channel.refresh_from_db()
    assert (channel.name, channel.rate_limit_count) == ("ops-teams-2", 5)
    assert channel.get_url() == TEAMS_HOOK


@pytest.mark.django_db
def test_admin_channel_kind_change_needs_new_url(admin_client_):
    channel = _channel()
    url = f"{CHANNEL_URL}{channel.pk}/change/"
    page = admin_client_.get(url)

    refused = admin_client_.post(url, admin_post_data(page, kind="slack"))
    accepted = admin_client_.post(
        url, admin_post_data(page, kind="slack", url="https://hooks.slack.com/services/T0/B0/xyz")
    )

    assert "Required for a Slack channel" in " ".join(_form_errors(refused)["url"])
    assert accepted.status_code == 302
    channel.refresh_from_db()
    assert channel.kind == "slack" and channel.get_url() == "https://hooks.slack.com/services/T0/B0/xyz"


@pytest.mark.django_db
def test_admin_channel_changed_to_email_forgets_url_and_secret(admin_client_):
    channel = _channel(kind="webhook", url="https://hooks.example.com/aims")
    url = f"{CHANNEL_URL}{channel.pk}/change/"
    page = admin_client_.get(url)

    response = admin_client_.post(url, admin_post_data(page, kind="email", recipients="oncall@example.com"))

    assert response.status_code == 302
    channel.refresh_from_db()
    assert (channel.url_encrypted, channel.url_host, channel.signing_secret_encrypted) == ("", "", "")


@pytest.mark.django_db
def test_admin_channel_test_action_delivers_to_receiver(admin_client_, receiver, settings):
    settings.AIMS_BASE_URL = "https://aims.example.com"
    channel = _channel(kind="webhook", url=f"{receiver.url}/hooks/aims-token-7f3a")

    response = admin_client_.post(
        CHANNEL_URL, {"action": "send_test_notification", "_selected_action": [channel.pk]}, follow=True
    )

    messages = [(m.level_tag, str(m)) for m in response.context["messages"]]
    assert messages == [("success", "ops-teams: test notification delivered.")]
    [request] = receiver.requests
    assert request.path == "/hooks/aims-token-7f3a"
    assert request.headers["x-aims-delivery"] == f"test-{channel.pk}"
    body = request.json()
    assert body["event"] == "opened"
    assert body["incident"]["url"] == "https://aims.example.com/incidents/"
    assert body["incident"]["pipeline"] and body["analysis"]["summary"]
    assert not Notification.objects.exists()


@pytest.mark.django_db
def test_admin_channel_test_action_reports_failure_without_url(admin_client_, receiver):
    receiver.reply_with(Reply(status=500, body=b"Cannot POST /hooks/aims-token-7f3a?sig=Zk9Qx7"))
    failing = _channel(name="failing", kind="slack", url=f"{receiver.url}/hooks/aims-token-7f3a?sig=Zk9Qx7")
    working = _channel(name="working", kind="teams", url=f"{receiver.url}/workflows/ok")

    response = admin_client_.post(
        CHANNEL_URL, {"action": "send_test_notification", "_selected_action": [failing.pk, working.pk]}, follow=True
    )

    messages = {str(m).split(":")[0]: (m.level_tag, str(m)) for m in response.context["messages"]}
    level, text = messages["failing"]
    assert level == "error"
    assert "FAILED" in text and "HTTP 500" in text
    assert "aims-token-7f3a" not in text and "Zk9Qx7" not in text
    assert messages["working"][0] == "success"
    assert len(receiver.requests) == 2


@pytest.mark.django_db
def test_admin_channel_test_action_sends_email(admin_client_):
    channel = _channel(name="mail", kind="email", recipients="oncall@example.com")

    admin_client_.post(CHANNEL_URL, {"action": "send_test_notification", "_selected_action": [channel.pk]})

    [email] = mail.outbox
    assert email.to == ["oncall@example.com"]
    assert "Test notification from AIMS" in email.subject


# --- Routes and escalation ----------------------------------------------------------------------------------------


def _route_data(admin_client_, route_channels: list[NotificationChannel], **changes) -> dict:
    page = admin_client_.get(f"{ROUTE_URL}add/")
    data = {
        "name": "Sales pipelines",
        "enabled": "on",
        "connection": "",
        "pipeline_pattern": "sales_*",
        "severities": ["high", "critical"],
        "categories": ["transient"],
        "channels": [str(channel.pk) for channel in route_channels],
        "notify_on_open": "on",
        "notify_on_resolve": "on",
    }
    return admin_post_data(page, **data) | changes


def _steps(*steps: tuple[str, list[NotificationChannel]]) -> dict:
    data = {
        "escalation_steps-TOTAL_FORMS": str(len(steps)),
        "escalation_steps-INITIAL_FORMS": "0",
    }
    for n, (after, channels) in enumerate(steps):
        data[f"escalation_steps-{n}-after_minutes"] = after
        data[f"escalation_steps-{n}-channels"] = [str(channel.pk) for channel in channels]
    return data


@pytest.mark.django_db
def test_admin_route_saved_with_lists_and_escalation(admin_client_):
    oncall, lead = _channel(), _channel(name="lead", kind="email", recipients="lead@example.com")

    response = admin_client_.post(
        f"{ROUTE_URL}add/", _route_data(admin_client_, [oncall]) | _steps(("15", [lead]), ("60", [oncall, lead]))
    )

    assert response.status_code == 302
    route = NotificationRoute.objects.get()
    assert route.severities == ["critical", "high"]  # most urgent first
    assert route.categories == ["transient"]
    assert list(route.channels.all()) == [oncall]
    steps = list(route.escalation_steps.order_by("after_minutes"))
    assert [(step.after_minutes, sorted(c.name for c in step.channels.all())) for step in steps] == [
        (15, ["lead"]),
        (60, ["lead", "ops-teams"]),
    ]


@pytest.mark.django_db
def test_admin_route_no_severity_or_class_ticked_means_all(admin_client_):
    channel = _channel()

    admin_client_.post(f"{ROUTE_URL}add/", _route_data(admin_client_, [channel], severities=[], categories=[]))

    route = NotificationRoute.objects.get()
    assert route.severities == [] and route.categories == []
    assert route.matches(connection_id=None, pipeline_name="sales_daily", severity="low", category="code")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("severities", ["high", "apocalyptic"], "Select a valid choice"),
        ("categories", ["cosmic_rays"], "Select a valid choice"),
        ("channels", [], "This field is required"),
        ("pipeline_pattern", "  ", "This field is required"),
    ],
)
def test_admin_route_bad_value_names_field_saves_nothing(admin_client_, field, value, message):
    channel = _channel()

    response = admin_client_.post(f"{ROUTE_URL}add/", _route_data(admin_client_, [channel], **{field: value}))

    assert response.status_code == 200
    errors = _form_errors(response)
    assert field in errors, errors
    assert message in " ".join(errors[field])
    assert not NotificationRoute.objects.exists()


@pytest.mark.django_db
def test_admin_route_duplicate_escalation_wait_refused(admin_client_):
    oncall, lead = _channel(), _channel(name="lead", kind="email", recipients="lead@example.com")

    response = admin_client_.post(
        f"{ROUTE_URL}add/", _route_data(admin_client_, [oncall]) | _steps(("30", [lead]), ("30", [oncall]))
    )

    assert response.status_code == 200
    [formset] = [inline.formset for inline in response.context["inline_admin_formsets"]]
    assert "Two escalation steps wait the same number of minutes" in " ".join(formset.non_form_errors())
    assert not NotificationRoute.objects.exists() and not EscalationStep.objects.exists()


@pytest.mark.django_db
def test_admin_route_escalation_wait_out_of_range_refused(admin_client_):
    channel = _channel()

    response = admin_client_.post(f"{ROUTE_URL}add/", _route_data(admin_client_, [channel]) | _steps(("0", [channel])))

    [formset] = [inline.formset for inline in response.context["inline_admin_formsets"]]
    assert "after_minutes" in formset.forms[0].errors
    assert not NotificationRoute.objects.exists()


@pytest.mark.django_db
def test_admin_route_list_queries_do_not_grow_with_routes(admin_client_):
    channels = [_channel(name=f"ch-{n}") for n in range(3)]

    def list_queries() -> int:
        with CaptureQueriesContext(db_connection) as queries:
            assert admin_client_.get(ROUTE_URL).status_code == 200
        return len(queries)

    def add_route(n: int) -> None:
        route = NotificationRoute.objects.create(name=f"route-{n}", connection=make_connection())
        route.channels.set(channels)
        EscalationStep.objects.create(route=route, after_minutes=15).channels.set(channels[:1])

    add_route(0)
    one = list_queries()
    for n in range(1, 4):
        add_route(n)
    many = list_queries()

    assert many == one


# --- Maintenance windows ------------------------------------------------------------------------------------------


def _window_data(admin_client_, **changes) -> dict:
    page = admin_client_.get(f"{WINDOW_URL}add/")
    data = {
        "name": "Sales DB patching",
        "reason": "Monthly patch",
        "connection": "",
        "pipeline_pattern": "sales_*",
        "starts_at_0": "2030-03-01",
        "starts_at_1": "22:00:00",
        "ends_at_0": "2030-03-02",
        "ends_at_1": "02:00:00",
        "suppress_notifications": "on",
        "suppress_retries": "on",
    }
    return admin_post_data(page, **data) | changes


@pytest.mark.django_db
def test_admin_window_saved_with_creator(admin_client_, admin_user):
    response = admin_client_.post(f"{WINDOW_URL}add/", _window_data(admin_client_))

    assert response.status_code == 302
    window = MaintenanceWindow.objects.get()
    assert window.created_by == admin_user
    assert window.ends_at - window.starts_at == timedelta(hours=4)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"ends_at_0": "2030-03-01", "ends_at_1": "21:00:00"}, "ends_at", "Must be after the start"),
        ({"suppress_notifications": None, "suppress_retries": None}, "suppress_notifications", "suppresses nothing"),
    ],
)
def test_admin_window_bad_value_names_field_saves_nothing(admin_client_, changes, field, message):
    data = _window_data(admin_client_)
    for name, value in changes.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value

    response = admin_client_.post(f"{WINDOW_URL}add/", data)

    assert response.status_code == 200
    errors = _form_errors(response)
    assert list(errors) == [field], errors
    assert message in " ".join(errors[field])
    assert not MaintenanceWindow.objects.exists()


@pytest.mark.django_db
def test_admin_window_list_shows_active_now(admin_client_):
    now = timezone.now()
    MaintenanceWindow.objects.create(name="now", starts_at=now - timedelta(hours=1), ends_at=now + timedelta(hours=1))
    MaintenanceWindow.objects.create(name="later", starts_at=now + timedelta(days=1), ends_at=now + timedelta(days=2))

    active = admin_client_.get(WINDOW_URL, {"state": "active"})
    listing = admin_client_.get(WINDOW_URL).content.decode()

    assert [w.name for w in active.context["cl"].result_list] == ["now"]
    assert listing.count('alt="True"') == 1 and listing.count('alt="False"') == 1
    assert "notifications and retries" in listing


# --- Who may edit ------------------------------------------------------------------------------------------------

CONFIG_URLS = [CHANNEL_URL, ROUTE_URL, WINDOW_URL]


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["viewer", "responder"])
@pytest.mark.parametrize("url", CONFIG_URLS)
def test_admin_config_add_closed_to_viewer_and_responder(request, who, url):
    user = request.getfixturevalue(who)
    client = request.getfixturevalue(f"{who}_client")

    outside = client.get(f"{url}add/")
    user.is_staff = True  # even if let into the admin site, the role's permissions refuse it
    user.save(update_fields=["is_staff"])
    inside = client.get(f"{url}add/")

    assert outside.status_code == 302 and "/admin/login/" in outside["Location"]
    assert inside.status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["viewer", "responder"])
def test_admin_config_change_closed_to_viewer_and_responder(request, receiver, who):
    user = request.getfixturevalue(who)
    client = request.getfixturevalue(f"{who}_client")
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    channel = _channel(url=f"{receiver.url}/workflows/x")
    route = NotificationRoute.objects.create(name="all")
    route.channels.set([channel])
    now = timezone.now()
    window = MaintenanceWindow.objects.create(name="patch", starts_at=now, ends_at=now + timedelta(hours=1))

    responses = [
        client.post(f"{CHANNEL_URL}{channel.pk}/change/", {**VALID_CHANNEL, "name": "hijacked"}),
        client.post(f"{ROUTE_URL}{route.pk}/change/", {"name": "hijacked"}),
        client.post(f"{WINDOW_URL}{window.pk}/change/", {"name": "hijacked"}),
        client.post(CHANNEL_URL, {"action": "send_test_notification", "_selected_action": [channel.pk]}),
    ]

    assert [r.status_code for r in responses[:3]] == [403, 403, 403]
    assert not NotificationChannel.objects.filter(name="hijacked").exists()
    assert not NotificationRoute.objects.filter(name="hijacked").exists()
    assert not MaintenanceWindow.objects.filter(name="hijacked").exists()
    assert receiver.requests == []  # the test action needs the change permission


# --- Read-only records -------------------------------------------------------------------------------------------


@pytest.fixture
def delivery(db) -> Notification:
    incident = make_incident(title="sales_daily: source timed out")
    return Notification.objects.create(
        channel=_channel(),
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
    _channel(name="ops-mail", kind="email", recipients="ops@example.com")
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
