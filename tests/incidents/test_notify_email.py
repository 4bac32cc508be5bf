"""Notification by email: the sender delivering to Django's locmem outbox, the message's parts, and how SMTP
failures are reported."""

import socket
import time
from collections.abc import Iterator

import pytest

from incidents.notify.email import EmailSender, email_parts
from tests.incidents.notify_messages import HOSTILE_ERROR, make_channel_config, make_digest, make_message


# --- Email -----------------------------------------------------------------------------------------------------
def test_email_sender_sends_text_and_html_to_recipients(settings, mailoutbox):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.DEFAULT_FROM_EMAIL = "AIMS <aims@example.com>"
    channel = make_channel_config("email", recipients=("oncall@example.com", "data-team@example.com"))

    result = EmailSender(timeout=5).send(channel, make_message(error=HOSTILE_ERROR), delivery_id="d")

    assert result.ok
    [email] = mailoutbox
    assert email.to == ["oncall@example.com", "data-team@example.com"]
    assert email.from_email == "AIMS <aims@example.com>"
    assert email.subject == "[AIMS] [HIGH] Incident opened: pl_sales_daily: cannot connect to sql-prod"
    assert make_message().summary in email.body and "https://aims.example.com/incidents/42/" in email.body
    assert HOSTILE_ERROR in email.body  # plain text is not HTML-escaped
    [(html, mimetype)] = email.alternatives
    assert mimetype == "text/html"
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert 'href="https://aims.example.com/incidents/42/"' in html


def test_email_parts_subject_one_line_at_most_200_chars():
    subject, _, _ = email_parts(make_message(title="Copy failed\r\nBcc: everyone@example.com\n" + "x" * 500))

    assert len(subject) == 200 and subject.endswith("…")
    assert "\n" not in subject and "\r" not in subject
    assert subject.startswith("[AIMS] [HIGH] Incident opened: Copy failed Bcc: everyone@example.com x")


def test_email_parts_digest_lists_items():
    subject, text, html = email_parts(make_digest(3))

    assert subject == "[AIMS] 3 notifications held back"
    assert "- [MEDIUM] opened: pl_load_2 failed\n  https://aims.example.com/i/2/" in text
    assert 'href="https://aims.example.com/i/2/"' in html


def test_email_sender_without_recipients_refused_not_retryable(mailoutbox):
    result = EmailSender(timeout=5).send(make_channel_config("email"), make_message(), delivery_id="d")

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
        make_channel_config("email", recipients=("oncall@example.com",)), make_message(), delivery_id="d"
    )

    assert time.monotonic() - started < 3
    assert (result.ok, result.retryable) == (False, True)
    assert result.error.startswith(error_start)
