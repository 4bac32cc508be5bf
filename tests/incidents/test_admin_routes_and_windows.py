"""The admin edits notification routes (with their escalation steps) and maintenance windows with validation (bad
input names the field and saves nothing), and none of the notification configuration is open to a viewer or a
responder."""

from datetime import timedelta

import pytest
from django.db import connection as db_connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from incidents.models import EscalationStep, NotificationChannel, NotificationRoute
from monitors.models import MaintenanceWindow
from tests.admin_forms import admin_post_data
from tests.incidents.admin_helpers import CHANNEL_URL, VALID_CHANNEL, form_errors, make_channel
from tests.monitors.factories import make_connection

ROUTE_URL = "/admin/incidents/notificationroute/"
WINDOW_URL = "/admin/monitors/maintenancewindow/"

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
    oncall, lead = make_channel(), make_channel(name="lead", kind="email", recipients="lead@example.com")

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
    channel = make_channel()

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
    channel = make_channel()

    response = admin_client_.post(f"{ROUTE_URL}add/", _route_data(admin_client_, [channel], **{field: value}))

    assert response.status_code == 200
    errors = form_errors(response)
    assert field in errors, errors
    assert message in " ".join(errors[field])
    assert not NotificationRoute.objects.exists()


@pytest.mark.django_db
def test_admin_route_duplicate_escalation_wait_refused(admin_client_):
    oncall, lead = make_channel(), make_channel(name="lead", kind="email", recipients="lead@example.com")

    response = admin_client_.post(
        f"{ROUTE_URL}add/", _route_data(admin_client_, [oncall]) | _steps(("30", [lead]), ("30", [oncall]))
    )

    assert response.status_code == 200
    [formset] = [inline.formset for inline in response.context["inline_admin_formsets"]]
    assert "Two escalation steps wait the same number of minutes" in " ".join(formset.non_form_errors())
    assert not NotificationRoute.objects.exists() and not EscalationStep.objects.exists()


@pytest.mark.django_db
def test_admin_route_escalation_wait_out_of_range_refused(admin_client_):
    channel = make_channel()

    response = admin_client_.post(f"{ROUTE_URL}add/", _route_data(admin_client_, [channel]) | _steps(("0", [channel])))

    [formset] = [inline.formset for inline in response.context["inline_admin_formsets"]]
    assert "after_minutes" in formset.forms[0].errors
    assert not NotificationRoute.objects.exists()


@pytest.mark.django_db
def test_admin_route_list_queries_do_not_grow_with_routes(admin_client_):
    channels = [make_channel(name=f"ch-{n}") for n in range(3)]

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
    errors = form_errors(response)
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

    assert outside.status_code == 403 and 'name="password"' not in outside.content.decode()
    assert inside.status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["viewer", "responder"])
def test_admin_config_change_closed_to_viewer_and_responder(request, receiver, who):
    user = request.getfixturevalue(who)
    client = request.getfixturevalue(f"{who}_client")
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    channel = make_channel(url=f"{receiver.url}/workflows/x")
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
