"""The read-only settings pages: every role reads them, only those who may edit see "Edit in admin", a channel's
secrets never reach the HTML, and each page costs a fixed number of queries."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from incidents.models import EscalationStep, NotificationChannel, NotificationRoute, Runbook
from monitors.models import MaintenanceWindow
from tests.monitors.factories import make_connection, make_retry_policy

pytestmark = pytest.mark.django_db

SECRET_URL = (
    "https://prod-12.westeurope.logic.azure.com:443/workflows/abc123/triggers/manual/paths/invoke?sig=S3CRETsig"
)
SLACK_URL = "https://hooks.slack.com/services/T000/B000/XOXB-SECRET-TOKEN"
SIGNING_SECRET = "whsec-signing-secret-0123456789"
PASSWORD_URL = "https://bob:hunter2-password@hooks.example.com/in"


def _channel(name: str, kind: str, url: str = "", secret: str = "", recipients: str = "") -> NotificationChannel:
    channel = NotificationChannel(name=name, kind=kind, recipients=recipients)
    channel.set_url(url)
    channel.set_signing_secret(secret)
    channel.save()
    return channel


@pytest.fixture
def settings_rows():
    conn = make_connection(name="adf-prod")
    policy = make_retry_policy(name="Transient reruns", connection=conn, pipeline_pattern="sales_*")
    teams = _channel("ops-teams", NotificationChannel.Kind.TEAMS, SECRET_URL)
    slack = _channel("ops-slack", NotificationChannel.Kind.SLACK, SLACK_URL)
    hook = _channel("ops-hook", NotificationChannel.Kind.WEBHOOK, PASSWORD_URL, SIGNING_SECRET)
    mail = _channel("ops-mail", NotificationChannel.Kind.EMAIL, recipients="lead@example.com, ops@example.com")
    route = NotificationRoute.objects.create(name="Everything", pipeline_pattern="*")
    route.channels.set([teams, slack, hook, mail])
    step = EscalationStep.objects.create(route=route, after_minutes=15)
    step.channels.set([mail])
    now = timezone.now()
    window = MaintenanceWindow.objects.create(
        name="Quarterly patching", connection=conn, starts_at=now - timedelta(hours=1), ends_at=now + timedelta(hours=1)
    )
    runbook = Runbook.objects.create(title="SQL timeouts", url="https://wiki.example.com/sql", category="transient")
    return {"policy": policy, "route": route, "channel": teams, "window": window, "runbook": runbook}


PAGES = [
    ("policies", "policy", "Transient reruns"),
    ("routes", "route", "Everything"),
    ("channels", "channel", "ops-teams"),
    ("maintenance", "window", "Quarterly patching"),
    ("runbooks", "runbook", "SQL timeouts"),
]


@pytest.mark.parametrize(("key", "row", "name"), PAGES)
@pytest.mark.parametrize("who", ["viewer_client", "responder_client"])
def test_settings_pages_readable_without_edit_link(request, settings_rows, who, key, row, name):
    client = request.getfixturevalue(who)

    listed = client.get(f"/settings/{key}/")
    detail = client.get(f"/settings/{key}/{settings_rows[row].pk}/")

    for response in (listed, detail):
        html = response.content.decode()
        assert response.status_code == 200
        assert name in html
        assert "Edit in admin" not in html
        assert "/admin/" not in html


@pytest.mark.parametrize(("key", "row", "name"), PAGES)
def test_settings_pages_admin_sees_edit_link(admin_client_, settings_rows, key, row, name):
    pk = settings_rows[row].pk
    html = admin_client_.get(f"/settings/{key}/{pk}/").content.decode()
    assert 'data-testid="edit-in-admin"' in html
    assert "/change/" in html and f"/{pk}/change/" in html


def test_settings_channels_never_show_secret_material(request, settings_rows):
    secrets = [
        "S3CRETsig",
        "/workflows/abc123",
        "XOXB-SECRET-TOKEN",
        "/services/T000",
        SIGNING_SECRET,
        "hunter2-password",
        "bob:",
        "lead@example.com",  # recipients' addresses are not shown either, only how many
    ]
    channels = NotificationChannel.objects.all()
    stored = [c.url_encrypted for c in channels if c.url_encrypted] + [
        c.signing_secret_encrypted for c in channels if c.signing_secret_encrypted
    ]
    for who in ("viewer_client", "responder_client", "admin_client_"):
        client = request.getfixturevalue(who)
        pages = [client.get("/settings/channels/"), client.get("/settings/routes/")]
        pages += [client.get(f"/settings/channels/{channel.pk}/") for channel in channels]
        pages += [client.get(f"/settings/routes/{settings_rows['route'].pk}/")]
        for page in pages:
            html = page.content.decode()
            assert page.status_code == 200
            for secret in secrets + [value[:40] for value in stored]:
                assert secret not in html, (who, page.request["PATH_INFO"], secret)
    html = request.getfixturevalue("viewer_client").get("/settings/channels/").content.decode()
    assert (
        "https://prod-12.westeurope.logic.azure.com:443" in html or "https://prod-12.westeurope.logic.azure.com" in html
    )
    assert "https://hooks.slack.com" in html
    assert "2 email addresses" in html


def test_settings_pages_no_role_refused(no_role_user, client, settings_rows):
    client.force_login(no_role_user)
    for path in ("/settings/", "/settings/policies/", f"/settings/policies/{settings_rows['policy'].pk}/"):
        response = client.get(path)
        assert response.status_code == 403


def test_settings_pages_anonymous_to_login(client):
    response = client.get("/settings/policies/")
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_settings_detail_unknown_id_404(viewer_client):
    assert viewer_client.get("/settings/policies/999999/").status_code == 404
    assert viewer_client.get("/settings/nonsense/").status_code == 404


def test_settings_index_lists_sections_and_nav_links_it(viewer_client):
    html = viewer_client.get("/settings/").content.decode()
    for key, _, _ in PAGES:
        assert f'href="/settings/{key}/"' in html
    assert 'href="/settings/"' in viewer_client.get("/incidents/").content.decode()


def test_settings_stored_markup_escaped(viewer_client):
    policy = make_retry_policy(name="<script>alert(1)</script>")
    html = viewer_client.get(f"/settings/policies/{policy.pk}/").content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


@pytest.mark.parametrize("key", ["policies", "routes", "channels", "maintenance", "runbooks"])
def test_settings_list_fixed_queries(viewer_client, settings_rows, key):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert viewer_client.get(f"/settings/{key}/").status_code == 200
        return len(captured)

    queries()
    few = queries()
    conn = make_connection()
    channel = _channel("more", NotificationChannel.Kind.SLACK, SLACK_URL)
    for n in range(3):
        make_retry_policy(connection=conn)
        route = NotificationRoute.objects.create(name=f"r{n}", connection=conn)
        route.channels.set([channel])
        EscalationStep.objects.create(route=route, after_minutes=5).channels.set([channel])
        now = timezone.now()
        MaintenanceWindow.objects.create(name=f"w{n}", connection=conn, starts_at=now, ends_at=now + timedelta(hours=1))
        Runbook.objects.create(title=f"rb{n}", url="https://wiki.example.com/", connection=conn)
    assert queries() == few


def test_settings_route_page_words_its_choices(viewer_client):
    route = NotificationRoute.objects.create(
        name="Contracts", sources=["contract_check"], severities=["critical"], categories=["data_quality"]
    )
    html = viewer_client.get(f"/settings/routes/{route.pk}/").content.decode()
    assert "Contract check" in html and "Critical" in html and "Data quality" in html
