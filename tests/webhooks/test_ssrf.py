"""An endpoint URL never reaches a private, loopback or metadata address: refused when saved and when sent."""

import pytest
from django.core.exceptions import ValidationError

from incidents.models import IncidentEvent
from incidents.services.events import incident_event_add
from webhooks.models import Endpoint, Message
from webhooks.services.delivery import messages_deliver
from webhooks.services.endpoints import endpoint_create

pytestmark = pytest.mark.django_db

REFUSED_URLS = [
    "https://10.0.0.1/hooks",
    "https://169.254.169.254/latest/meta-data/",
    "http://hooks.example.com/aims",  # plain http to anything but the simulator
    "http://127.0.0.1:5432/",  # loopback, not an allowed origin
    "https://[::ffff:10.0.0.1]/hooks",
    "https://metadata.google.internal/computeMetadata/v1/",
    "https://user:pw@hooks.example.com/",
    "ftp://hooks.example.com/",
]


@pytest.mark.parametrize("url", REFUSED_URLS)
def test_endpoint_create_refuses_url(url):
    with pytest.raises(ValidationError) as refused:
        endpoint_create(name="evil", url=url)

    assert "url" in refused.value.message_dict
    assert not Endpoint.objects.exists()


def test_endpoint_create_refuses_name_resolving_to_private_space(resolve_to):
    resolve_to("hooks.internal.example.com", "10.20.30.40")

    with pytest.raises(ValidationError, match="not a public address"):
        endpoint_create(name="evil", url="https://hooks.internal.example.com/aims")


def test_endpoint_save_outside_forms_refused(resolve_to):
    with pytest.raises(ValidationError):
        Endpoint.objects.create(name="raw", url="https://10.0.0.1/", secret_encrypted="x")


def test_endpoint_create_public_name_accepted(resolve_to):
    resolve_to("hooks.example.com", "93.184.216.34")

    endpoint, secret = endpoint_create(name="ok", url="https://hooks.example.com/aims")

    assert endpoint.pk and secret.startswith("whsec_")


@pytest.mark.parametrize("event_types", [["incident.exploded"], "incident.opened", [1]])
def test_endpoint_create_refuses_unknown_event_type(resolve_to, event_types):
    resolve_to("hooks.example.com", "93.184.216.34")

    with pytest.raises(ValidationError) as refused:
        endpoint_create(name="typo", url="https://hooks.example.com/aims", event_types=event_types)

    assert "event_types" in refused.value.message_dict


def test_endpoint_create_refuses_unknown_severity(resolve_to):
    resolve_to("hooks.example.com", "93.184.216.34")

    with pytest.raises(ValidationError) as refused:
        endpoint_create(name="typo", url="https://hooks.example.com/aims", severities=["apocalyptic"])

    assert "severities" in refused.value.message_dict


def _queue_one_message(incident) -> None:
    incident_event_add(incident=incident, kind=IncidentEvent.Kind.ACKNOWLEDGED)


def test_delivery_refuses_name_rebound_to_private_space_at_send(resolve_to, incident):
    resolve_to("hooks.example.com", "93.184.216.34")
    endpoint_create(name="rebinding", url="https://hooks.example.com/aims")
    _queue_one_message(incident)
    resolve_to("hooks.example.com", "10.0.0.7")  # DNS changed after the check at save

    counts = messages_deliver()

    message = Message.objects.get()
    assert counts.failed == 1 and message.last_status_code is None
    assert "not a public address" in message.last_error


@pytest.mark.parametrize("url", ["https://10.0.0.1/hooks", "https://169.254.169.254/", "http://hooks.example.com/"])
def test_delivery_refuses_url_written_past_validation(resolve_to, incident, url):
    resolve_to("hooks.example.com", "93.184.216.34")
    endpoint, _ = endpoint_create(name="tampered", url="https://hooks.example.com/aims")
    Endpoint.objects.filter(pk=endpoint.pk).update(url=url)  # a row changed without save()
    _queue_one_message(incident)

    counts = messages_deliver()

    message = Message.objects.get()
    assert counts.failed == 1 and message.last_error.startswith("refused:")
