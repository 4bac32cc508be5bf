"""The signed acknowledge link of a notification: GET shows the incident and a button and changes nothing; POST by a
signed-in Responder acknowledges; forged, expired, foreign, stale and post-resolve links do nothing; a Viewer and a
visitor without a session cannot use it."""

from datetime import timedelta

import pytest
from django.urls import reverse

from incidents import ack_links
from incidents.ack_links import ack_token, ack_url
from incidents.models import Incident
from incidents.services import SYSTEM, incident_resolve
from tests.incidents.factories import make_incident


def _link(incident: Incident, user_id: int | None = None, generation: int | None = None) -> str:
    token = ack_token(incident_id=incident.pk, generation=generation or incident.generation, user_id=user_id)
    return reverse("incidents:ack-link", args=[incident.pk, token])


@pytest.mark.django_db
def test_ack_link_get_shows_the_button_and_changes_nothing(responder_client, responder):
    incident = make_incident()
    response = responder_client.get(_link(incident, responder.pk))
    assert response.status_code == 200
    assert b'data-testid="ack-button"' in response.content and incident.title.encode() in response.content
    assert Incident.objects.get(pk=incident.pk).status == Incident.Status.TRIGGERED


@pytest.mark.django_db
def test_ack_link_post_acknowledges_as_the_signed_in_responder(responder_client, responder):
    incident = make_incident()
    response = responder_client.post(_link(incident, responder.pk))
    assert response.status_code == 303 and response["Location"] == reverse("incidents:detail", args=[incident.pk])
    incident.refresh_from_db()
    assert incident.status == Incident.Status.ACKNOWLEDGED
    assert incident.events.get(kind="acknowledged").actor_user == responder


@pytest.mark.django_db
def test_ack_link_post_needs_the_csrf_token(responder):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(responder)
    incident = make_incident()
    assert client.post(_link(incident, responder.pk)).status_code == 403
    assert Incident.objects.get(pk=incident.pk).status == Incident.Status.TRIGGERED


@pytest.mark.django_db
def test_ack_link_tampered_token_is_refused(responder_client):
    incident = make_incident()
    link = _link(incident)
    forged = link[:-3] + ("a" if link[-3] != "a" else "b") + link[-2:]
    response = responder_client.post(forged)
    assert response.status_code == 400 and b"not valid" in response.content
    assert Incident.objects.get(pk=incident.pk).status == Incident.Status.TRIGGERED


@pytest.mark.django_db
def test_ack_link_expired_is_refused(responder_client, monkeypatch):
    incident = make_incident()
    link = _link(incident)
    monkeypatch.setattr(ack_links, "ACK_LINK_MAX_AGE", timedelta(seconds=-1))
    response = responder_client.post(link)
    assert response.status_code == 410 and b"expired" in response.content
    assert Incident.objects.get(pk=incident.pk).status == Incident.Status.TRIGGERED


@pytest.mark.django_db
def test_ack_link_of_another_incident_is_refused(responder_client):
    mine, other = make_incident(), make_incident()
    token = ack_token(incident_id=mine.pk, generation=mine.generation, user_id=None)
    response = responder_client.post(reverse("incidents:ack-link", args=[other.pk, token]))
    assert response.status_code == 400
    assert Incident.objects.get(pk=other.pk).status == Incident.Status.TRIGGERED


@pytest.mark.django_db
def test_ack_link_replayed_after_resolve_does_nothing(responder_client):
    incident = make_incident()
    incident_resolve(incident_id=incident.pk, actor=SYSTEM)
    response = responder_client.post(_link(incident))
    assert response.status_code == 409 and b"resolved" in response.content
    assert Incident.objects.get(pk=incident.pk).status == Incident.Status.RESOLVED


@pytest.mark.django_db
def test_ack_link_of_an_earlier_generation_does_nothing(responder_client):
    incident = make_incident(generation=2)
    response = responder_client.post(_link(incident, generation=1))
    assert response.status_code == 409
    assert Incident.objects.get(pk=incident.pk).status == Incident.Status.TRIGGERED


@pytest.mark.django_db
def test_ack_link_viewer_is_forbidden(viewer_client):
    incident = make_incident()
    assert viewer_client.get(_link(incident)).status_code == 403
    assert viewer_client.post(_link(incident)).status_code == 403
    assert Incident.objects.get(pk=incident.pk).status == Incident.Status.TRIGGERED


@pytest.mark.django_db
def test_ack_link_without_a_session_goes_to_login(client):
    incident = make_incident()
    response = client.post(_link(incident))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert Incident.objects.get(pk=incident.pk).status == Incident.Status.TRIGGERED


def test_ack_url_is_absolute(settings):
    settings.AIMS_BASE_URL = "https://aims.example.com"
    assert ack_url(incident_id=7, generation=1, user_id=3).startswith("https://aims.example.com/incidents/7/ack/")
