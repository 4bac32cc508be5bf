"""The admin: Admins create endpoints (the secret shown once), rotate, replay; Viewers and Responders see nothing."""

import pytest
from django.test import Client
from django.urls import reverse
from standardwebhooks import Webhook

from incidents.models import IncidentEvent
from incidents.services.events import incident_event_add
from webhooks.models import Endpoint, Message
from webhooks.services.delivery import messages_deliver

pytestmark = pytest.mark.django_db

PAGES = [
    "/admin/webhooks/endpoint/",
    "/admin/webhooks/endpoint/add/",
    "/admin/webhooks/message/",
    "/admin/webhooks/attempt/",
]


@pytest.mark.parametrize("path", PAGES)
def test_webhooks_admin_hidden_from_viewer_and_responder(viewer_client, responder_client, path):
    for client in (viewer_client, responder_client):
        response = client.get(path)
        assert response.status_code == 403 and 'name="password"' not in response.content.decode()


def test_webhooks_permissions_per_role(viewer, responder, admin_user):
    for user in (viewer, responder):
        assert not any(perm.startswith("webhooks.") for perm in user.get_all_permissions())
    assert admin_user.has_perms(["webhooks.add_endpoint", "webhooks.change_endpoint", "webhooks.view_message"])
    assert admin_user.has_perm("webhooks.view_attempt")
    assert not admin_user.has_perm("webhooks.change_message") and not admin_user.has_perm("webhooks.delete_attempt")


def _create(client: Client, url: str, **extra):
    data = {"name": "ops-bridge", "url": url, "description": "", "enabled": "on", **extra}
    return client.post("/admin/webhooks/endpoint/add/", data)


def test_endpoint_admin_add_shows_secret_once(admin_client_, admin_user, hook_receiver):
    response = _create(admin_client_, hook_receiver.url + "/hooks", event_types=["incident.opened"])

    assert response.status_code == 200
    secret = response.context["secret"]
    assert secret.startswith("whsec_") and secret in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    endpoint = Endpoint.objects.get()
    assert endpoint.secret == secret and endpoint.created_by == admin_user
    assert endpoint.event_types == ["incident.opened"]
    change_page = admin_client_.get(reverse("admin:webhooks_endpoint_change", args=[endpoint.pk]))
    assert change_page.status_code == 200
    assert secret.removeprefix("whsec_") not in change_page.content.decode()
    listing = admin_client_.get("/admin/webhooks/endpoint/")
    assert secret.removeprefix("whsec_") not in listing.content.decode()


@pytest.mark.parametrize("url", ["https://10.0.0.1/x", "http://hooks.example.com/", "https://169.254.169.254/"])
def test_endpoint_admin_add_refuses_url_naming_field(admin_client_, url):
    response = _create(admin_client_, url)

    assert response.status_code == 200
    assert "url" in response.context["adminform"].form.errors
    assert not Endpoint.objects.exists()


def test_endpoint_admin_rotate_shows_new_secret(admin_client_, make_endpoint):
    endpoint, old = make_endpoint()

    response = admin_client_.post(
        "/admin/webhooks/endpoint/", {"action": "rotate_secret", "_selected_action": [endpoint.pk]}
    )

    assert response.status_code == 200
    new = response.context["secret"]
    endpoint.refresh_from_db()
    assert new != old and endpoint.secret == new and endpoint.previous_secret == old


def test_endpoint_admin_reenable_clears_reason(admin_client_, make_endpoint, hook_receiver):
    endpoint, _ = make_endpoint()
    Endpoint.objects.filter(pk=endpoint.pk).update(enabled=False, disabled_reason="410 Gone")
    data = {"name": endpoint.name, "url": endpoint.url, "description": "", "enabled": "on"}

    response = admin_client_.post(reverse("admin:webhooks_endpoint_change", args=[endpoint.pk]), data)

    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.enabled and endpoint.disabled_reason == "" and endpoint.disabled_at is None


def test_message_admin_replay_action(admin_client_, make_endpoint, hook_receiver, incident):
    _, secret = make_endpoint()
    incident_event_add(incident=incident, kind=IncidentEvent.Kind.ACKNOWLEDGED)
    messages_deliver()
    message = Message.objects.get()

    page = admin_client_.get(reverse("admin:webhooks_message_change", args=[message.pk]))
    response = admin_client_.post("/admin/webhooks/message/", {"action": "replay", "_selected_action": [message.pk]})
    messages_deliver()

    assert page.status_code == 200 and message.msg_id in page.content.decode()
    assert response.status_code == 302
    assert [request.headers["webhook-id"] for request in hook_receiver.requests] == [message.msg_id] * 2
    Webhook(secret).verify(hook_receiver.requests[1].body, hook_receiver.requests[1].headers)


def test_endpoint_admin_send_test_event(admin_client_, make_endpoint, hook_receiver):
    endpoint, _ = make_endpoint()

    admin_client_.post("/admin/webhooks/endpoint/", {"action": "send_test_event", "_selected_action": [endpoint.pk]})
    messages_deliver()

    assert [request.headers["webhook-id"] for request in hook_receiver.requests] == [Message.objects.get().msg_id]
