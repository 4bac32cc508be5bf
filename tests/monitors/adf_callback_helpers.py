"""What the ADF failure callback's tests share: the connection's webhook secret, and posting a callback as a Web
activity does (and draining it)."""

import json

from monitors.models import WebhookDelivery

SECRET = "adf-callback-webhook-secret-0123"


def post_callback(client, body, connection: str = "adf-contoso", query: str = "", **headers):
    data = body if isinstance(body, bytes | str) else json.dumps(body)
    return client.post(f"/hooks/adf/{connection}/{query}", data=data, content_type="application/json", headers=headers)


def deliver_callback(client, capture, body, connection: str = "adf-contoso", **headers) -> WebhookDelivery:
    """POST the callback as a Web activity does (the secret in a header unless told otherwise) and drain it."""
    with capture(execute=True):
        response = post_callback(client, body, connection, **(headers or {"X-AIMS-Token": SECRET}))
    assert response.status_code == 202, response.content
    assert response.json()["status"] == WebhookDelivery.Status.ACCEPTED
    return WebhookDelivery.objects.get(pk=response.json()["delivery"])
