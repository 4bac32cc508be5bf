"""Email through Django's mail framework: a plain text body with an HTML alternative, both from templates."""

import smtplib

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.template.loader import render_to_string

from incidents.notify.base import ChannelConfig, ChannelSpec, DeliveryResult, NotificationMessage, clip, message_facts

MAX_SUBJECT_CHARS = 200
MAX_ERROR_CHARS = 10_000
CHANNEL = ChannelSpec(kind="email", recipients=True)


def _subject(message: NotificationMessage) -> str:
    if message.event == "digest":
        subject = f"[AIMS] {message.headline}"
    else:
        subject = f"[AIMS] [{message.severity.upper()}] {message.headline}: {message.title}"
    # One line however the title was written: a header with a newline is refused.
    subject = " ".join(subject.split())
    return clip(subject, MAX_SUBJECT_CHARS)


def email_parts(message: NotificationMessage) -> tuple[str, str, str]:
    """Subject, plain text body and HTML body."""
    context = {
        "message": message,
        "is_digest": message.event == "digest",
        "facts": message_facts(message),
        "error": clip(message.error, MAX_ERROR_CHARS),
    }
    text = render_to_string("incidents/notify/email.txt", context)
    html = render_to_string("incidents/notify/email.html", context)
    return _subject(message), text, html


class EmailSender:
    def __init__(self, *, timeout: float) -> None:
        self.timeout = timeout

    def send(self, channel: ChannelConfig, message: NotificationMessage, *, delivery_id: str) -> DeliveryResult:
        missing = CHANNEL.missing(channel)
        if missing:
            return DeliveryResult(ok=False, error=missing, retryable=False)
        subject, text, html = email_parts(message)
        email = EmailMultiAlternatives(
            subject,
            text,
            settings.DEFAULT_FROM_EMAIL,
            list(channel.recipients),
            connection=get_connection(fail_silently=False, timeout=self.timeout),
        )
        email.attach_alternative(html, "text/html")
        try:
            email.send(fail_silently=False)
        except (smtplib.SMTPException, OSError) as exc:
            return DeliveryResult(ok=False, error=f"{type(exc).__name__}: {exc}", retryable=True)
        return DeliveryResult(ok=True)
