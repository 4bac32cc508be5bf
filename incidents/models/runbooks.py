"""Runbooks: an admin-edited link to what to do, attached to the incidents it applies to (by pipeline name pattern,
error class and connection), shown on the incident page and in every notification."""

import fnmatch
import ipaddress
import string
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.db import models

from aimsweb.choices import ErrorCategory
from aimsweb.models import TimeStampedModel

MAX_URL_CHARS = 500
LOOPBACK_HOSTS = frozenset({"localhost"})
# RFC 3986's characters only (anything else percent-encoded): nothing that ends a link in chat markup (Slack's
# "<url|text>", markdown's "[text](url)") or an HTML attribute.
URL_CHARACTERS = frozenset(string.ascii_letters + string.digits + "-._~:/?#[]@!$&'()*+,;=%")


def _is_loopback(host: str) -> bool:
    if host in LOOPBACK_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def runbook_url_problem(url: str) -> str:
    """Why a runbook URL may not be shown as a link ('' when it may): https to any host, plain http to this machine
    only; no other scheme (javascript:, data:, file:), no credentials, only URL characters, at most MAX_URL_CHARS
    characters. People click it from the incident page and from chat, so it must be a plain web page."""
    if not url:
        return "Give the runbook's URL."
    if len(url) > MAX_URL_CHARS:
        return f"At most {MAX_URL_CHARS} characters."
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        return "A URL has no spaces or control characters."
    if not set(url) <= URL_CHARACTERS:
        return 'Percent-encode the characters a URL may not hold (such as < > " | or letters outside ASCII).'
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - a port that is not a number raises here
    except ValueError:
        return "Not a URL."
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http"):
        return "Use an https:// URL."
    if not host:
        return "The URL names no host."
    if parts.username is not None or parts.password is not None:
        return "Leave the user name and password out of the URL."
    if scheme == "http" and not _is_loopback(host):
        return "Use an https:// URL (plain http only to this machine)."
    return ""


def validate_runbook_url(url: str) -> None:
    problem = runbook_url_problem(url)
    if problem:
        raise ValidationError(problem)


class Runbook(TimeStampedModel):
    """What to do about a kind of incident, as a link: it applies to the incidents that match every criterion it
    sets (a pipeline name pattern, an error class, a connection); the most specific match is shown first."""

    title = models.CharField(max_length=200)
    url = models.CharField("URL", max_length=MAX_URL_CHARS, validators=[validate_runbook_url])
    pipeline_pattern = models.CharField(
        max_length=260, blank=True, help_text="Glob on pipeline or job names, e.g. sales_* (* = all; blank: any)."
    )
    category = models.CharField(
        "error class", max_length=20, blank=True, choices=ErrorCategory.choices, help_text="Blank: any error class."
    )
    connection = models.ForeignKey(
        "monitors.Connection",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="runbooks",
        help_text="Blank: any connection.",
    )
    enabled = models.BooleanField(default=True)

    class Meta:
        ordering = ["title", "id"]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        if not self.pipeline_pattern.strip() and not self.category and self.connection_id is None:
            raise ValidationError(
                {
                    "pipeline_pattern": "Say what it applies to: a pipeline pattern (* for every pipeline), "
                    "an error class or a connection."
                }
            )

    @property
    def safe_url(self) -> str:
        """The URL when it may be a link (a row written around the form's checks is shown as text only)."""
        return self.url if not runbook_url_problem(self.url) else ""

    def matches(self, *, connection_id: int | None, pipeline_name: str, category: str) -> bool:
        return (
            self.enabled
            and (not self.pipeline_pattern or fnmatch.fnmatchcase(pipeline_name, self.pipeline_pattern))
            and (not self.category or self.category == category)
            and (self.connection_id is None or self.connection_id == connection_id)
        )

    @property
    def specificity(self) -> tuple[int, int]:
        """Higher is more specific: a pipeline pattern narrower than * weighs most, then an error class, then a
        connection; between two patterns, the one with more literal characters."""
        pattern = self.pipeline_pattern.strip()
        narrow = bool(pattern) and pattern != "*"
        weight = 4 * narrow + 2 * bool(self.category) + (self.connection_id is not None)
        literal = sum(1 for ch in pattern if ch not in "*?[]")
        return weight, literal
