"""Notification transport: payload builders checked against each service's rules, and every sender delivering to a
local receiver (or Django's locmem mail outbox), including how failures are reported."""

import dataclasses
import hashlib
import hmac
import json
import socket
import time
from collections.abc import Iterator
from http import HTTPStatus

import pytest
import requests
from django.core.exceptions import ImproperlyConfigured

from incidents.models import NotificationChannel
from incidents.notify.base import ChannelConfig, DigestItem, NotificationMessage, url_origin
from incidents.notify.channels import CHANNEL_SPECS
from incidents.notify.email import EmailSender, email_parts
from incidents.notify.http import post_json, sender_for
from incidents.notify.slack import SlackSender, block_kit_payload
from incidents.notify.teams import TeamsSender, adaptive_card_payload, markdown_escaped
from incidents.notify.webhook import WebhookSender, signature_verify, webhook_body
from tests.incidents.receivers import Reply

ADF_ERROR = (
    "ErrorCode=SqlFailedToConnect,'Type=Microsoft.DataTransfer.Common.Shared.HybridDeliveryException,"
    "Message=Cannot connect to SQL Database: 'sql-prod.database.windows.net', Database: 'sales', User: 'adf_loader'. "
    "Check the linked service configuration is correct, and make sure the SQL Database firewall allows the "
    "integration runtime to access.,Source=Microsoft.DataTransfer.ClientLibrary,"
    "''Type=System.Data.SqlClient.SqlException,Message=A network-related or instance-specific error occurred while "
    "establishing a connection to SQL Server. (provider: TCP Provider, error: 0 - The wait operation timed out.),"
    "Source=.Net SqlClient Data Provider,SqlErrorNumber=258,Class=20,ErrorCode=-2146232060,State=0,'"
)
HOSTILE_ERROR = "Lookup failed <script>alert('x')</script> & <!channel> see <https://evil.example|the fix>"
SECRET_PATH = "/workflows/secret-token?sig=abc"
TEAMS_MAX_BYTES = 28 * 1024
WEBHOOK_SECRET = "whsec-5f1d2c"


def _message(**changes) -> NotificationMessage:
    message = NotificationMessage(
        event="opened",
        headline="Incident opened",
        title="pl_sales_daily: cannot connect to sql-prod",
        severity="high",
        status="open",
        category="Connectivity",
        summary="The copy activity could not reach sql-prod.database.windows.net; the server timed out the login.",
        root_cause="The Azure SQL firewall does not allow the self-hosted integration runtime's address.",
        error=ADF_ERROR,
        pipeline="pl_sales_daily",
        connection="adf-prod",
        failed_step="Copy_SalesOrders",
        occurrences=3,
        url="https://aims.example.com/incidents/42/",
        incident_id=42,
        actions=(
            "Check that the SQL firewall allows the integration runtime",
            "Re-run pl_sales_daily once sql-prod answers",
        ),
    )
    return dataclasses.replace(message, **changes)


def _digest(count: int) -> NotificationMessage:
    items = tuple(
        DigestItem(
            title=f"pl_load_{n} failed", event="opened", severity="medium", url=f"https://aims.example.com/i/{n}/"
        )
        for n in range(count)
    )
    return _message(event="digest", headline=f"{count} notifications held back", url="", digest_items=items)


def _channel(kind: str, url: str = "", **changes) -> ChannelConfig:
    return ChannelConfig(kind=kind, name=f"{kind} on call", url=url, **changes)


# --- Teams -----------------------------------------------------------------------------------------------------
CARD_ELEMENTS = {"TextBlock", "FactSet", "Container", "ColumnSet", "Column"}
TEXT_BLOCK_ENUMS = {
    "weight": {"Default", "Lighter", "Bolder"},
    "size": {"Default", "Small", "Medium", "Large", "ExtraLarge"},
    "color": {"default", "dark", "light", "accent", "good", "warning", "attention"},
    "fontType": {"Default", "Monospace"},
}


def _check_card_element(element: dict) -> None:
    kind = element.get("type")
    assert kind in CARD_ELEMENTS, f"unknown element type {kind!r}"
    if kind == "TextBlock":
        assert isinstance(element["text"], str) and element["text"]
        for name, allowed in TEXT_BLOCK_ENUMS.items():
            assert element.get(name, next(iter(allowed))) in allowed, f"TextBlock {name}={element.get(name)!r}"
    elif kind == "FactSet":
        assert isinstance(element["facts"], list) and element["facts"]
        for fact in element["facts"]:
            assert set(fact) == {"title", "value"}
            assert isinstance(fact["title"], str) and isinstance(fact["value"], str)
    elif kind == "ColumnSet":
        for column in element.get("columns", []):
            assert column["type"] == "Column"
            _check_card_element(column)
    else:
        for item in element.get("items", []):
            _check_card_element(item)


def _check_teams_payload(payload: dict) -> dict:
    """The rules Teams enforces on a Workflows message with an Adaptive Card; returns the card."""
    assert payload["type"] == "message"
    assert len(payload["attachments"]) == 1
    attachment = payload["attachments"][0]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard"
    assert tuple(int(part) for part in card["version"].split(".")) <= (1, 4)
    assert card["body"]
    for element in card["body"]:
        _check_card_element(element)
    for action in card.get("actions", []):
        assert action["type"] == "Action.OpenUrl" and action["url"].startswith("https://")
    assert "MessageCard" not in json.dumps(payload)
    return card


def _texts(card: dict) -> list[str]:
    return [element["text"] for element in card["body"] if element["type"] == "TextBlock"]


def test_adaptive_card_payload_incident_passes_teams_card_rules():
    card = _check_teams_payload(adaptive_card_payload(_message()))

    headline = card["body"][0]
    assert headline == {
        "type": "TextBlock",
        "text": "Incident opened",
        "wrap": True,
        "weight": "Bolder",
        "size": "Medium",
        "color": "attention",
    }
    facts = next(element["facts"] for element in card["body"] if element["type"] == "FactSet")
    assert {"title": "Severity", "value": "HIGH"} in facts
    assert {"title": "Occurrences", "value": "3"} in facts
    assert [element for element in card["body"] if element.get("fontType") == "Monospace"][0][
        "text"
    ] == markdown_escaped(ADF_ERROR)
    assert "- Check that the SQL firewall allows the integration runtime\n- Re-run" in "".join(_texts(card))
    assert card["actions"] == [
        {"type": "Action.OpenUrl", "title": "Open incident", "url": "https://aims.example.com/incidents/42/"}
    ]
    assert card["msteams"] == {"width": "Full"}


def test_adaptive_card_payload_empty_facts_left_out():
    card = adaptive_card_payload(_message(connection="", failed_step="", occurrences=0))["attachments"][0]["content"]

    facts = next(element["facts"] for element in card["body"] if element["type"] == "FactSet")
    assert [fact["title"] for fact in facts] == ["Severity", "Status", "Class", "Pipeline"]


@pytest.mark.parametrize(
    ("event", "severity", "color"),
    [
        ("opened", "critical", "attention"),
        ("escalated", "high", "attention"),
        ("reopened", "low", "default"),
        ("resolved", "critical", "good"),
    ],
)
def test_adaptive_card_payload_headline_color_follows_event_and_severity(event, severity, color):
    card = adaptive_card_payload(_message(event=event, severity=severity))["attachments"][0]["content"]

    assert card["body"][0]["color"] == color


def test_adaptive_card_payload_100kb_error_trimmed_to_1500_chars():
    card = _check_teams_payload(adaptive_card_payload(_message(error="E" * 100_000)))

    error_block = next(element for element in card["body"] if element.get("fontType") == "Monospace")
    assert len(error_block["text"]) == 1500 and error_block["text"].endswith("…")


def test_teams_sender_every_text_huge_and_non_ascii_stays_under_28kb(receiver):
    huge = "接続に失敗しました🔥" * 10_000  # 100 K characters of 3 and 4 UTF-8 bytes each
    message = _message(
        headline=huge, title=huge, summary=huge, error=huge, category=huge, pipeline=huge, actions=(huge,) * 50
    )

    result = TeamsSender(timeout=5).send(_channel("teams", receiver.url + "/hook"), message, delivery_id="d-1")

    assert result.ok
    assert len(receiver.requests[0].body) <= TEAMS_MAX_BYTES
    _check_teams_payload(receiver.requests[0].json())


def test_adaptive_card_payload_digest_links_20_items_and_counts_the_rest():
    card = _check_teams_payload(adaptive_card_payload(_digest(25)))

    texts = _texts(card)
    links = [text for text in texts if "](https://aims.example.com/i/" in text]
    assert len(links) == 20
    assert links[0] == "**MEDIUM** opened: [pl\\_load\\_0 failed](https://aims.example.com/i/0/)"
    assert texts[-1] == "and 5 more"
    assert card["actions"] == []  # the digest message has no url


# --- Slack -----------------------------------------------------------------------------------------------------
def _check_slack_limits(payload: dict) -> None:
    """Block Kit limits that make Slack reject a message with invalid_blocks."""
    assert isinstance(payload["text"], str) and len(payload["text"]) <= 3000
    blocks = payload["blocks"]
    assert 0 < len(blocks) <= 50
    for block in blocks:
        if block["type"] == "header":
            assert block["text"]["type"] == "plain_text" and 0 < len(block["text"]["text"]) <= 150
        elif block["type"] == "section":
            assert "text" in block or "fields" in block
            if "text" in block:
                assert 0 < len(block["text"]["text"]) <= 3000
            fields = block.get("fields", [])
            assert len(fields) <= 10
            assert all(field["type"] == "mrkdwn" and 0 < len(field["text"]) <= 2000 for field in fields)
        elif block["type"] == "context":
            assert 0 < len(block["elements"]) <= 10
            assert all(len(element["text"]) <= 3000 for element in block["elements"])
        elif block["type"] == "actions":
            assert 0 < len(block["elements"]) <= 25
            for button in block["elements"]:
                assert button["type"] == "button" and button["text"]["type"] == "plain_text"
                assert 0 < len(button["text"]["text"]) <= 75 and button["action_id"]
                assert button["url"].startswith("https://") and len(button["url"]) <= 3000
        else:
            pytest.fail(f"unexpected block type {block['type']!r}")


def _section_texts(payload: dict) -> list[str]:
    return [block["text"]["text"] for block in payload["blocks"] if block["type"] == "section" and "text" in block]


def test_block_kit_payload_incident_within_slack_limits():
    payload = block_kit_payload(_message())

    _check_slack_limits(payload)
    assert payload["blocks"][0]["text"]["text"] == "Incident opened"
    assert payload["text"] == "Incident opened: pl_sales_daily: cannot connect to sql-prod"
    fields = next(block["fields"] for block in payload["blocks"] if "fields" in block)
    assert {"type": "mrkdwn", "text": "*Severity*\nHIGH"} in fields
    assert any(text.startswith("```\nErrorCode=SqlFailedToConnect") for text in _section_texts(payload))
    button = payload["blocks"][-1]["elements"][0]
    assert button["url"] == "https://aims.example.com/incidents/42/" and button["text"]["text"] == "Open incident"


def test_block_kit_payload_100kb_error_within_limits():
    payload = block_kit_payload(_message(error="E" * 100_000, title="T" * 100_000, summary="S" * 100_000))

    _check_slack_limits(payload)
    error_text = next(text for text in _section_texts(payload) if text.startswith("```"))
    assert error_text.endswith("…\n```")


def test_block_kit_payload_user_text_escaped():
    payload = block_kit_payload(_message(error=HOSTILE_ERROR, title="Load <orders> & <!here>"))

    sent = json.dumps(payload)
    assert "<script>" not in sent and "<!channel>" not in sent and "<!here>" not in sent
    assert "<https://evil.example" not in sent
    error_text = next(text for text in _section_texts(payload) if text.startswith("```"))
    assert "&lt;script&gt;alert('x')&lt;/script&gt; &amp; &lt;!channel&gt;" in error_text
    assert "Load &lt;orders&gt; &amp; &lt;!here&gt;" in _section_texts(payload)


def test_block_kit_payload_trimmed_error_never_splits_an_entity():
    payload = block_kit_payload(_message(error="&" * 5_000))

    error_text = next(text for text in _section_texts(payload) if text.startswith("```"))
    inner = error_text.removeprefix("```\n").removesuffix("…\n```")
    assert len(error_text) <= 3000
    assert inner and inner.replace("&amp;", "") == ""


def test_block_kit_payload_digest_shows_20_and_says_how_many_more():
    payload = block_kit_payload(_digest(60))

    _check_slack_limits(payload)
    texts = _section_texts(payload)
    assert sum("<https://aims.example.com/i/" in text for text in texts) == 20
    assert "• *MEDIUM* opened: <https://aims.example.com/i/0/|pl_load_0 failed>" in texts
    assert texts[-1] == "_and 40 more_"


# --- Webhook body and signature --------------------------------------------------------------------------------
def test_webhook_body_documented_shape():
    body = webhook_body(_digest(2), delivery_id="d-7")

    assert set(body) == {"version", "delivery_id", "event", "incident", "analysis", "error", "digest"}
    assert (body["version"], body["delivery_id"], body["event"]) == (1, "d-7", "digest")
    assert set(body["incident"]) == {
        "id", "title", "status", "severity", "category", "pipeline", "connection", "failed_step", "occurrences", "url"
    }  # fmt: skip
    assert body["analysis"]["recommended_actions"] == list(_message().actions)
    assert body["digest"][1] == {
        "title": "pl_load_1 failed",
        "event": "opened",
        "severity": "medium",
        "url": "https://aims.example.com/i/1/",
    }


# --- Delivery over HTTP ----------------------------------------------------------------------------------------
def test_teams_sender_posts_card_to_receiver(receiver):
    receiver.reply_with(Reply(202, b""))  # what Teams Workflows answers

    result = TeamsSender(timeout=5).send(_channel("teams", receiver.url + SECRET_PATH), _message(), delivery_id="d-1")

    assert result.ok and result.status_code == 202
    [request] = receiver.requests
    assert (request.method, request.path) == ("POST", SECRET_PATH)
    assert request.headers["content-type"] == "application/json"
    assert request.json() == adaptive_card_payload(_message())


def test_slack_sender_posts_blocks_to_receiver(receiver):
    result = SlackSender(timeout=5).send(
        _channel("slack", receiver.url + "/services/T0/B0/x"), _message(), delivery_id="d"
    )

    assert result.ok and result.status_code == 200
    [request] = receiver.requests
    assert request.method == "POST" and request.headers["content-type"] == "application/json"
    assert request.json() == block_kit_payload(_message())


@pytest.fixture
def signed_delivery(receiver):
    """One webhook delivered to the receiver: the request as received."""
    channel = _channel("webhook", receiver.url + "/aims", signing_secret=WEBHOOK_SECRET)
    result = WebhookSender(timeout=5).send(channel, _message(), delivery_id="d-42")
    assert result.ok
    [request] = receiver.requests
    return request


def test_webhook_sender_posts_signed_exact_body(signed_delivery):
    headers = signed_delivery.headers

    assert signed_delivery.method == "POST" and headers["content-type"] == "application/json"
    assert headers["x-aims-delivery"] == "d-42"
    assert abs(int(headers["x-aims-timestamp"]) - time.time()) < 60
    expected_body = webhook_body(_message(), delivery_id="d-42")
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
    result = WebhookSender(timeout=5).send(_channel("webhook", receiver.url + "/aims"), _message(), delivery_id="d")

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


@pytest.fixture
def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


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


# --- Email -----------------------------------------------------------------------------------------------------
def test_email_sender_sends_text_and_html_to_recipients(settings, mailoutbox):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.DEFAULT_FROM_EMAIL = "AIMS <aims@example.com>"
    channel = _channel("email", recipients=("oncall@example.com", "data-team@example.com"))

    result = EmailSender(timeout=5).send(channel, _message(error=HOSTILE_ERROR), delivery_id="d")

    assert result.ok
    [email] = mailoutbox
    assert email.to == ["oncall@example.com", "data-team@example.com"]
    assert email.from_email == "AIMS <aims@example.com>"
    assert email.subject == "[AIMS] [HIGH] Incident opened: pl_sales_daily: cannot connect to sql-prod"
    assert _message().summary in email.body and "https://aims.example.com/incidents/42/" in email.body
    assert HOSTILE_ERROR in email.body  # plain text is not HTML-escaped
    [(html, mimetype)] = email.alternatives
    assert mimetype == "text/html"
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert 'href="https://aims.example.com/incidents/42/"' in html


def test_email_parts_subject_one_line_at_most_200_chars():
    subject, _, _ = email_parts(_message(title="Copy failed\r\nBcc: everyone@example.com\n" + "x" * 500))

    assert len(subject) == 200 and subject.endswith("…")
    assert "\n" not in subject and "\r" not in subject
    assert subject.startswith("[AIMS] [HIGH] Incident opened: Copy failed Bcc: everyone@example.com x")


def test_email_parts_digest_lists_items():
    subject, text, html = email_parts(_digest(3))

    assert subject == "[AIMS] 3 notifications held back"
    assert "- [MEDIUM] opened: pl_load_2 failed\n  https://aims.example.com/i/2/" in text
    assert 'href="https://aims.example.com/i/2/"' in html


def test_email_sender_without_recipients_refused_not_retryable(mailoutbox):
    result = EmailSender(timeout=5).send(_channel("email"), _message(), delivery_id="d")

    assert (result.ok, result.retryable, result.error) == (False, False, "no recipients")
    assert mailoutbox == []


@pytest.fixture
def silent_smtp_port() -> Iterator[int]:
    """A port that accepts connections but never sends the SMTP greeting."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        yield server.getsockname()[1]


@pytest.mark.parametrize(
    ("port_fixture", "error_start"),
    [
        ("silent_smtp_port", "SMTPServerDisconnected: Connection unexpectedly closed: timed out"),
        ("closed_port", "ConnectionRefusedError: "),
    ],
)
def test_email_sender_smtp_failure_retryable(settings, request, port_fixture, error_start):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = request.getfixturevalue(port_fixture)
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 10  # only if the sender's own timeout were not applied
    started = time.monotonic()

    result = EmailSender(timeout=0.5).send(
        _channel("email", recipients=("oncall@example.com",)), _message(), delivery_id="d"
    )

    assert time.monotonic() - started < 3
    assert (result.ok, result.retryable) == (False, True)
    assert result.error.startswith(error_start)


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
    channel = _channel("webhook", signing_secret=WEBHOOK_SECRET)

    result = sender_class(timeout=5).send(channel, _message(), delivery_id="d")

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
