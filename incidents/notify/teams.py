"""Microsoft Teams through a Workflows webhook ("When a Teams webhook request is received"): the incident as an
Adaptive Card 1.4 in a message attachment. Every text is bounded so the card stays under Teams' 28 KB limit, and every
text that comes from a platform or a user is escaped so Teams' markdown cannot turn it into links or formatting."""

import json
import re

from incidents.notify.base import (
    ChannelConfig,
    ChannelSpec,
    DeliveryResult,
    DigestItem,
    NotificationMessage,
    clip,
    message_facts,
)
from incidents.notify.http import post_json

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
ATTENTION_EVENTS = frozenset({"opened", "reopened", "escalated"})
ATTENTION_SEVERITIES = frozenset({"high", "critical"})
# Characters per text; with up to 4 UTF-8 bytes per character the whole card stays below 28 KB.
MAX_HEADLINE_CHARS = 200
MAX_TITLE_CHARS = 300
MAX_FACT_CHARS = 200
MAX_SUMMARY_CHARS = 1500
MAX_ERROR_CHARS = 1500
MAX_ACTIONS = 5
MAX_ACTION_CHARS = 300
MAX_DIGEST_ITEMS = 20
MAX_DIGEST_TITLE_CHARS = 150
CHANNEL = ChannelSpec(kind="teams", url=True)


def _headline_color(message: NotificationMessage) -> str:
    if message.event == "resolved":
        return "good"
    if message.event in ATTENTION_EVENTS and message.severity in ATTENTION_SEVERITIES:
        return "attention"
    return "default"


# Teams renders TextBlock and FactSet text as markdown: a "[click](https://evil)" in an error would be a link in the
# on-call channel. Every markdown character gets a backslash; bare URLs and www. names, which Teams links by itself,
# lose the characters that make them one ("https[:]//evil.example", "www[.]evil.example").
_MARKDOWN_CHARACTER = re.compile(r"([\\`*_\[\]()#>|<~])")
_AUTOLINK = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*):(?=//)|\b(www)\.")


def markdown_escaped(text: str) -> str:
    """`text` as Teams shows it literally: no link, emphasis, heading, list or quote can be formed from it."""
    defanged = _AUTOLINK.sub(lambda m: f"{m.group(1)}[:]" if m.group(1) else f"{m.group(2)}[.]", text)
    return _MARKDOWN_CHARACTER.sub(r"\\\1", defanged)


def _plain(text: str, limit: int) -> str:
    """`text` cut to `limit` characters (before escaping, so an escape is never cut in half), then escaped."""
    return markdown_escaped(clip(text, limit))


def _text_block(text: str, **properties: str | bool) -> dict:
    return {"type": "TextBlock", "text": text, "wrap": True, **properties}


def _facts(message: NotificationMessage) -> list[dict[str, str]]:
    return [{"title": title, "value": _plain(value, MAX_FACT_CHARS)} for title, value in message_facts(message)]


def _digest_line(item: DigestItem) -> dict:
    # The link is AIMS's own; its text is escaped like any other.
    title = _plain(item.title, MAX_DIGEST_TITLE_CHARS)
    return _text_block(
        f"**{markdown_escaped(item.severity.upper())}** {markdown_escaped(item.event)}: [{title}]({item.url})"
    )


def _incident_body(message: NotificationMessage) -> list[dict]:
    body: list[dict] = [_text_block(_plain(message.title, MAX_TITLE_CHARS))]
    facts = _facts(message)
    if facts:
        body.append({"type": "FactSet", "facts": facts})
    if message.summary:
        body.append(_text_block(_plain(message.summary, MAX_SUMMARY_CHARS)))
    if message.error:
        body.append(_text_block(_plain(message.error, MAX_ERROR_CHARS), fontType="Monospace"))
    if message.actions:
        lines = [f"- {_plain(action, MAX_ACTION_CHARS)}" for action in message.actions[:MAX_ACTIONS]]
        body.append(_text_block("\n".join(lines)))
    if message.runbook_url:
        body.append(_text_block(runbook_line(message)))
    return body


def runbook_line(message: NotificationMessage) -> str:
    """ "Runbook: [title](url)": the title escaped like any text; the URL (checked when saved to hold URL characters
    only) with its parentheses encoded, which would end the markdown link."""
    url = message.runbook_url.replace("(", "%28").replace(")", "%29")
    return f"**Runbook:** [{_plain(message.runbook_title, MAX_FACT_CHARS)}]({url})"


def _digest_body(message: NotificationMessage) -> list[dict]:
    items = message.digest_items
    body = [_digest_line(item) for item in items[:MAX_DIGEST_ITEMS]]
    if len(items) > MAX_DIGEST_ITEMS:
        body.append(_text_block(f"and {len(items) - MAX_DIGEST_ITEMS} more", isSubtle=True))
    return body


def adaptive_card_payload(message: NotificationMessage) -> dict:
    """The Workflows webhook body: one message with the incident (or the digest) as an Adaptive Card."""
    headline = _text_block(
        _plain(message.headline, MAX_HEADLINE_CHARS), weight="Bolder", size="Medium", color=_headline_color(message)
    )
    is_digest = message.event == "digest"
    body = _digest_body(message) if is_digest else _incident_body(message)
    open_title = "Open incidents" if is_digest else "Open incident"
    entities = []
    if message.mention_id and message.mention_name:
        # A Teams mention: <at>name</at> in the text and an entity naming the user by their sign-in name (UPN).
        tag = f"<at>{markdown_escaped(clip(message.mention_name, 100))}</at>"
        body.insert(0, _text_block(f"{tag} you are on call: please acknowledge."))
        entities.append({"type": "mention", "text": tag, "mentioned": {"id": message.mention_id, "name": tag[4:-5]}})
    actions = [{"type": "Action.OpenUrl", "title": open_title, "url": message.url}] if message.url else []
    if message.ack_url:
        actions.append({"type": "Action.OpenUrl", "title": "Acknowledge", "url": message.ack_url})
    card = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "msteams": {"width": "Full", **({"entities": entities} if entities else {})},
        "body": [headline, *body],
        "actions": actions,
    }
    return {"type": "message", "attachments": [{"contentType": CARD_CONTENT_TYPE, "contentUrl": None, "content": card}]}


class TeamsSender:
    def __init__(self, *, timeout: float) -> None:
        self.timeout = timeout

    def send(self, channel: ChannelConfig, message: NotificationMessage, *, delivery_id: str) -> DeliveryResult:
        missing = CHANNEL.missing(channel)
        if missing:
            return DeliveryResult(ok=False, error=missing, retryable=False)
        # Raw UTF-8 rather than \u escapes, which would take up to six bytes of the card's size limit per character.
        body = json.dumps(adaptive_card_payload(message), ensure_ascii=False).encode()
        return post_json(channel.url, body, {"Content-Type": "application/json"}, timeout=self.timeout)
