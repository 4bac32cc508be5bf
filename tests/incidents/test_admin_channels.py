"""The admin edits notification channels with validation (bad input names the field and saves nothing), never shows
a channel's stored URL or secret, and sends a test notification through each."""

import pytest
from django.core import mail

from incidents.models import Notification, NotificationChannel
from tests.admin_forms import admin_post_data
from tests.incidents.admin_helpers import (
    CHANNEL_URL,
    TEAMS_HOOK,
    VALID_CHANNEL,
    WEBHOOK_SECRET,
    form_errors,
    make_channel,
)
from tests.incidents.receivers import Reply

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
    errors = form_errors(response)
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
    errors = form_errors(response)
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

    assert "signing_secret" in form_errors(response)
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
    errors = form_errors(response)
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

    assert "url" in form_errors(response)
    assert not NotificationChannel.objects.exists()


@pytest.mark.django_db
def test_admin_channel_blank_url_on_change_keeps_stored_one(admin_client_):
    channel = make_channel()
    url = f"{CHANNEL_URL}{channel.pk}/change/"
    page = admin_client_.get(url)

    response = admin_client_.post(url, admin_post_data(page, name="ops-teams-2", rate_limit_count="5"))

    assert response.status_code == 302
    channel.refresh_from_db()
    assert (channel.name, channel.rate_limit_count) == ("ops-teams-2", 5)
    assert channel.get_url() == TEAMS_HOOK


@pytest.mark.django_db
def test_admin_channel_kind_change_needs_new_url(admin_client_):
    channel = make_channel()
    url = f"{CHANNEL_URL}{channel.pk}/change/"
    page = admin_client_.get(url)

    refused = admin_client_.post(url, admin_post_data(page, kind="slack"))
    accepted = admin_client_.post(
        url, admin_post_data(page, kind="slack", url="https://hooks.slack.com/services/T0/B0/xyz")
    )

    assert "Required for a Slack channel" in " ".join(form_errors(refused)["url"])
    assert accepted.status_code == 302
    channel.refresh_from_db()
    assert channel.kind == "slack" and channel.get_url() == "https://hooks.slack.com/services/T0/B0/xyz"


@pytest.mark.django_db
def test_admin_channel_changed_to_email_forgets_url_and_secret(admin_client_):
    channel = make_channel(kind="webhook", url="https://hooks.example.com/aims")
    url = f"{CHANNEL_URL}{channel.pk}/change/"
    page = admin_client_.get(url)

    response = admin_client_.post(url, admin_post_data(page, kind="email", recipients="oncall@example.com"))

    assert response.status_code == 302
    channel.refresh_from_db()
    assert (channel.url_encrypted, channel.url_host, channel.signing_secret_encrypted) == ("", "", "")


@pytest.mark.django_db
def test_admin_channel_test_action_delivers_to_receiver(admin_client_, receiver, settings):
    settings.AIMS_BASE_URL = "https://aims.example.com"
    channel = make_channel(kind="webhook", url=f"{receiver.url}/hooks/aims-token-7f3a")

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
    failing = make_channel(name="failing", kind="slack", url=f"{receiver.url}/hooks/aims-token-7f3a?sig=Zk9Qx7")
    working = make_channel(name="working", kind="teams", url=f"{receiver.url}/workflows/ok")

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
    channel = make_channel(name="mail", kind="email", recipients="oncall@example.com")

    admin_client_.post(CHANNEL_URL, {"action": "send_test_notification", "_selected_action": [channel.pk]})

    [email] = mail.outbox
    assert email.to == ["oncall@example.com"]
    assert "Test notification from AIMS" in email.subject
