"""What every notification sender takes and returns, whichever service it talks to."""

from dataclasses import dataclass, field
from typing import Protocol

from aimsweb.outbound import origin_of


@dataclass(frozen=True)
class DigestItem:
    """One notification held back by a channel's rate limit, listed in the digest that follows."""

    title: str
    event: str
    severity: str
    url: str


@dataclass(frozen=True)
class NotificationMessage:
    """Everything a channel may show about one incident event (all text already redacted)."""

    event: str  # opened | reopened | escalated | resolved | digest
    headline: str  # e.g. "Incident opened", "Escalated: not acknowledged after 15 minutes"
    title: str  # the incident's title
    severity: str  # low | medium | high | critical
    status: str  # the incident's status now
    category: str  # error class, display form
    summary: str  # analysis summary
    root_cause: str
    error: str  # the specific error (may be long: builders trim it)
    pipeline: str
    connection: str
    failed_step: str
    occurrences: int
    url: str  # absolute link to the incident page
    incident_id: int | None = None
    actions: tuple[str, ...] = ()  # recommended actions
    ack_url: str = ""  # signed link to acknowledge (pages only)
    mention_name: str = ""  # the on-call person this message is for (their username), if any
    mention_id: str = ""  # their Slack member id or Teams user, mentioned by the Slack and Teams senders
    digest_items: tuple[DigestItem, ...] = field(default_factory=tuple)
    # The most specific runbook that applies (incidents.selectors.context), its URL checked when saved.
    runbook_title: str = ""
    runbook_url: str = ""


@dataclass(frozen=True)
class ChannelConfig:
    """Where and how to deliver: the secrets (webhook URL, signing secret) in clear, for sending only."""

    kind: str  # teams | slack | email | webhook
    name: str
    url: str = ""
    recipients: tuple[str, ...] = ()
    signing_secret: str = ""


@dataclass(frozen=True)
class ChannelSpec:
    """What a channel of one kind is configured with, declared once by its sender module: the admin form requires
    exactly these and clears the rest, and the sender refuses a channel that lacks one."""

    kind: str  # a NotificationChannel.Kind value
    url: bool = False  # posts to a webhook URL
    signing_secret: bool = False  # signs each delivery
    recipients: bool = False  # mails a list of addresses

    def missing(self, channel: ChannelConfig) -> str:
        """What `channel` lacks that this kind needs ('' when nothing), in a delivery error's words."""
        if self.url and not channel.url:
            return "no URL"
        if self.signing_secret and not channel.signing_secret:
            return "no signing secret"
        if self.recipients and not channel.recipients:
            return "no recipients"
        return ""


@dataclass(frozen=True)
class DeliveryResult:
    ok: bool
    status_code: int | None = None
    error: str = ""
    retryable: bool = False  # worth trying again later (timeouts, 429, 5xx)


class Sender(Protocol):
    def __init__(self, *, timeout: float) -> None: ...

    def send(self, channel: ChannelConfig, message: NotificationMessage, *, delivery_id: str) -> DeliveryResult: ...


def message_facts(message: NotificationMessage) -> list[tuple[str, str]]:
    """The incident's labelled facts, in display order, leaving out the empty ones."""
    facts = [
        ("Severity", message.severity.upper()),
        ("Status", message.status),
        ("Class", message.category),
        ("Pipeline", message.pipeline),
        ("Connection", message.connection),
        ("Step", message.failed_step),
        ("Occurrences", str(message.occurrences) if message.occurrences else ""),
    ]
    return [(label, value) for label, value in facts if value]


def clip(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, an ellipsis marking the cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def url_origin(url: str) -> str:
    """scheme://host[:port] only, what may be shown of a channel URL: Teams and Slack webhook URLs carry their
    secret in the path and query, and any URL may carry user:password@. Read by the sending library's parser, so
    it names the host a request would go to."""
    return origin_of(url)
