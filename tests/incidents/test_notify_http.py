"""Notification delivery over HTTP: every URL sender posting to a local receiver, webhook signatures, how HTTP
failures are reported, and which sender a channel kind gets."""

import hashlib
import hmac
import json
import time
from http import HTTPStatus

import pytest
import requests
from django.core.exceptions import ImproperlyConfigured

from incidents.models import NotificationChannel
from incidents.notify.base import url_origin
from incidents.notify.channels import CHANNEL_SPECS
from incidents.notify.email import EmailSender
from incidents.notify.http import post_json, sender_for
from incidents.notify.slack import SlackSender, block_kit_payload
from incidents.notify.teams import TeamsSender, adaptive_card_payload
from incidents.notify.webhook import WebhookSender, signature_verify, webhook_body
from tests.incidents.notify_messages import make_channel_config, make_message
from tests.incidents.receivers import Reply

SECRET_PATH = "/workflows/secret-token?sig=abc"
WEBHOOK_SECRET = "whsec-5f1d2c"


# --- Delivery over HTTP ----------------------------------------------------------------------------------------
def test_teams_sender_posts_card_to_receiver(receiver):
    receiver.reply_with(Reply(202, b""))  # what Teams Workflows answers

    result = TeamsSender(timeout=5).send(
        make_channel_config("teams", receiver.url + SECRET_PATH), make_message(), delivery_id="d-1"
    )

    assert result.ok and result.status_code == 202
    [request] = receiver.requests
    assert (request.method, request.path) == ("POST", SECRET_PATH)
    assert request.headers["content-type"] == "application/json"
    assert request.json() == adaptive_card_payload(make_message())


def test_slack_sender_posts_blocks_to_receiver(receiver):
    result = SlackSender(timeout=5).send(
        make_channel_config("slack", receiver.url + "/services/T0/B0/x"), make_message(), delivery_id="d"
    )

    assert result.ok and result.status_code == 200
    [request] = receiver.requests
    assert request.method == "POST" and request.headers["content-type"] == "application/json"
    assert request.json() == block_kit_payload(make_message())


@pytest.fixture
def signed_delivery(receiver):
    """One webhook delivered to the receiver: the request as received."""
    channel = make_channel_config("webhook", receiver.url + "/aims", signing_secret=WEBHOOK_SECRET)
    result = WebhookSender(timeout=5).send(channel, make_message(), delivery_id="d-42")
    assert result.ok
    [request] = receiver.requests
    return request


def test_webhook_sender_posts_signed_exact_body(signed_delivery):
    headers = signed_delivery.headers

    assert signed_delivery.method == "POST" and headers["content-type"] == "application/json"
    assert headers["x-aims-delivery"] == "d-42"
    assert abs(int(headers["x-aims-timestamp"]) - time.time()) < 60
    expected_body = webhook_body(make_message(), delivery_id="d-42")
    assert signed_delivery.body == json.dumps(expected_body, separators=(",", ":"), sort_keys=True).encode()
    signed = headers["x-aims-timestamp"].encode() + b"." + signed_delivery.body
    digest = hmac.new(WEBHOOK_SECRET.encode(), signed, hashlib.sha256).hexdigest()
    assert headers["x-aims-signature"] == f"sha256={digest}"
    assert signature_verify(WEBHOOK_SECRET, headers["x-aims-timestamp"], signed_delivery.body, f"sha256={digest}")


@pytest.mark.parametrize(
    ("secret", "tamper", "delay"),
    [
        ("whsec-wrong", lambda body: body, 0),
        (WEBHOOK_SECRET, lambda body: body.replace(b'"severity":"high"', b'"severity":"low"'), 0),
        (WEBHOOK_SECRET, lambda body: body, 301),
    ],
    ids=["wrong-secret", "modified-body", "old-timestamp"],
)
def test_signature_verify_tampered_delivery_fails(signed_delivery, secret, tamper, delay):
    timestamp = signed_delivery.headers["x-aims-timestamp"]
    body = tamper(signed_delivery.body)
    assert secret != WEBHOOK_SECRET or body != signed_delivery.body or delay  # each case changes something

    verified = signature_verify(
        secret, timestamp, body, signed_delivery.headers["x-aims-signature"], now=int(timestamp) + delay
    )

    assert verified is False


def test_webhook_sender_without_signing_secret_refuses(receiver):
    result = WebhookSender(timeout=5).send(
        make_channel_config("webhook", receiver.url + "/aims"), make_message(), delivery_id="d"
    )

    assert (result.ok, result.retryable, result.error) == (False, False, "no signing secret")
    assert receiver.requests == []


# --- HTTP failures ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("status", "retryable"), [(500, True), (503, True), (429, True), (408, True), (400, False), (404, False)]
)
def test_post_json_error_status_reported_without_body(receiver, status, retryable):
    answer = f"Bad payload posted to {SECRET_PATH}: " + "x" * 300  # receivers echo the secret path
    receiver.reply_with(Reply(status, answer.encode()))

    result = post_json(receiver.url + SECRET_PATH, b"{}", {"Content-Type": "application/json"}, timeout=5)

    assert (result.ok, result.status_code, result.retryable) == (False, status, retryable)
    assert result.error == f"HTTP {status} {HTTPStatus(status).phrase}"


def test_post_json_fails_twice_then_succeeds(receiver):
    receiver.reply_with(Reply(500), Reply(503))

    results = [post_json(receiver.url + "/hook", b"{}", {}, timeout=5) for _ in range(3)]

    assert [(result.ok, result.status_code, result.retryable) for result in results] == [
        (False, 500, True),
        (False, 503, True),
        (True, 200, False),
    ]
    assert len(receiver.requests) == 3


def test_post_json_slow_receiver_times_out_retryable(receiver):
    receiver.reply_with(Reply(delay=5))
    started = time.monotonic()

    result = post_json(receiver.url + SECRET_PATH, b"{}", {}, timeout=0.5)

    assert time.monotonic() - started < 3
    assert (result.ok, result.retryable, result.status_code) == (False, True, None)
    assert result.error == f"ReadTimeout contacting {receiver.url}"


def test_post_json_closed_port_connection_error_retryable(closed_port, settings):
    settings.AIMS_OUTBOUND_LOOPBACK_ORIGINS = [f"http://127.0.0.1:{closed_port}"]
    url = f"http://127.0.0.1:{closed_port}{SECRET_PATH}"

    result = post_json(url, b"{}", {}, timeout=2)

    assert (result.ok, result.retryable) == (False, True)
    assert result.error == f"ConnectionError contacting http://127.0.0.1:{closed_port}"
    assert "secret-token" not in result.error and "sig=abc" not in result.error


@pytest.fixture
def no_network(monkeypatch) -> list:
    """requests.post replaced by a recorder: a test using it can never reach the network."""
    calls = []
    monkeypatch.setattr(requests, "post", lambda *args, **kwargs: calls.append((args, kwargs)))
    return calls


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/workflows/secret-token?sig=abc",
        "http://10.1.2.3/workflows/secret-token?sig=abc",
        "http://localhost.example.com/workflows/secret-token?sig=abc",
        "ftp://127.0.0.1/workflows/secret-token?sig=abc",
        "https:///workflows/secret-token?sig=abc",
        "/workflows/secret-token?sig=abc",
    ],
)
def test_post_json_not_https_refused_before_any_request(no_network, url):
    result = post_json(url, b"{}", {}, timeout=5)

    assert (result.ok, result.retryable) == (False, False)
    assert result.error.startswith("refused: ")
    assert "secret-token" not in result.error and "sig=abc" not in result.error
    assert no_network == []


def test_post_json_https_sent_without_redirects_and_with_both_timeouts(monkeypatch):
    calls = []

    class Accepted:
        status_code = 202

        def __enter__(self):
            return self

        def __exit__(self, *exc_info):
            return None

    def fake_post(session, *args, **kwargs):
        calls.append((args, kwargs))
        return Accepted()

    monkeypatch.setattr(requests.Session, "post", fake_post)

    result = post_json("https://prod.westeurope.logic.azure.com/workflows/x", b"{}", {}, timeout=7.5)

    assert result.ok and result.status_code == 202
    [(args, kwargs)] = calls
    assert args == ("https://prod.westeurope.logic.azure.com/workflows/x",)
    assert kwargs["timeout"] == (7.5, 7.5) and kwargs["allow_redirects"] is False and kwargs["data"] == b"{}"


# --- Choosing a sender -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kind", "sender_class"),
    [("teams", TeamsSender), ("slack", SlackSender), ("email", EmailSender), ("webhook", WebhookSender)],
)
def test_sender_for_configured_kind_built_with_notify_timeout(settings, kind, sender_class):
    settings.AIMS_NOTIFY_TIMEOUT_SECONDS = 3.5

    sender = sender_for(kind)

    assert type(sender) is sender_class and sender.timeout == 3.5


def test_channel_specs_one_per_channel_kind():
    assert sorted(CHANNEL_SPECS) == sorted(NotificationChannel.Kind.values)


@pytest.mark.parametrize("sender_class", [TeamsSender, SlackSender, WebhookSender])
def test_url_sender_without_url_refused_not_retryable(receiver, sender_class):
    channel = make_channel_config("webhook", signing_secret=WEBHOOK_SECRET)

    result = sender_class(timeout=5).send(channel, make_message(), delivery_id="d")

    assert (result.ok, result.retryable, result.error) == (False, False, "no URL")
    assert receiver.requests == []


def test_sender_for_unknown_kind_raises_naming_it():
    with pytest.raises(ImproperlyConfigured, match="'pagerduty'"):
        sender_for("pagerduty")


def test_channel_shows_only_the_origin_of_its_url():
    channel = NotificationChannel(name="hook", kind=NotificationChannel.Kind.WEBHOOK)
    channel.set_url("https://user:pw@[2001:db8::1]:8443/workflows/abc?sig=s3cret")

    assert channel.url_host == "https://[2001:db8::1]:8443"
    assert url_origin("https://prod-42.westeurope.logic.azure.com/workflows/x?sig=y") == (
        "https://prod-42.westeurope.logic.azure.com"
    )
