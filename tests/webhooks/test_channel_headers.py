"""The notification webhook channel also sends Standard Webhooks headers, keyed with its signing secret's bytes."""

import base64

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from incidents.notify.webhook import WebhookSender
from tests.incidents.notify_messages import make_channel_config, make_message

SECRET = "channel-signing-secret-0123456789"


def test_webhook_sender_standard_headers_verify(hook_receiver):
    channel = make_channel_config("webhook", hook_receiver.url + "/aims", signing_secret=SECRET)

    result = WebhookSender(timeout=5).send(channel, make_message(), delivery_id="42")

    assert result.ok
    [received] = hook_receiver.requests
    assert received.headers["webhook-id"] == received.headers["x-aims-delivery"] == "42"
    assert received.headers["webhook-timestamp"] == received.headers["x-aims-timestamp"]
    receiver_secret = "whsec_" + base64.b64encode(SECRET.encode()).decode()
    assert Webhook(receiver_secret).verify(received.body, received.headers)["delivery_id"] == "42"
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + base64.b64encode(b"another-secret-entirely").decode()).verify(
            received.body, received.headers
        )
