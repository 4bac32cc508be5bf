"""Slack through an incoming webhook: Block Kit blocks plus a plain fallback text, every text cut to Slack's limits
and every piece of user text escaped so it cannot form links or mentions (`<!channel>`, `<https://…|…>`)."""

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

SLACK_MEMBER_ID = re.compile(r"^[UW][A-Z0-9]{2,20}$")

MAX_TEXT_CHARS = 3000  # fallback text, section text, context element
MAX_HEADER_CHARS = 150
MAX_FIELD_CHARS = 2000
MAX_TITLE_CHARS = 300
MAX_DIGEST_ITEMS = 20
MAX_DIGEST_TITLE_CHARS = 200
MAX_ACTIONS = 10
CODE_FENCE = "```"
CHANNEL = ChannelSpec(kind="slack", url=True)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _mrkdwn(text: str, limit: int) -> str:
    """`text` escaped, then cut to `limit` characters without splitting an entity such as "&amp;"."""
    escaped = _escape(text)
    if len(escaped) <= limit:
        return escaped
    cut = escaped[: limit - 1]
    ampersand = cut.rfind("&", len(cut) - len("&amp;"))
    if ampersand != -1 and ";" not in cut[ampersand:]:
        cut = cut[:ampersand]
    return cut + "…"


def _section(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _field(label: str, value: str) -> dict:
    prefix = f"*{label}*\n"
    return {"type": "mrkdwn", "text": prefix + _mrkdwn(value, MAX_FIELD_CHARS - len(prefix))}


def _incident_blocks(message: NotificationMessage) -> list[dict]:
    blocks = [_section(_mrkdwn(message.title, MAX_TITLE_CHARS))]
    fields = [_field(label, value) for label, value in message_facts(message)]
    if fields:
        blocks.append({"type": "section", "fields": fields})
    if message.summary:
        blocks.append(_section("*Summary*\n" + _mrkdwn(message.summary, MAX_TEXT_CHARS - len("*Summary*\n"))))
    if message.error:
        error = _mrkdwn(message.error, MAX_TEXT_CHARS - 2 * len(CODE_FENCE) - 2)
        blocks.append(_section(f"{CODE_FENCE}\n{error}\n{CODE_FENCE}"))
    if message.actions:
        heading = "*Recommended actions*"
        per_action = (MAX_TEXT_CHARS - len(heading)) // MAX_ACTIONS - len("\n• ")
        lines = [f"• {_mrkdwn(action, per_action)}" for action in message.actions[:MAX_ACTIONS]]
        blocks.append(_section("\n".join([heading, *lines])))
    if message.runbook_url:
        # The URL holds URL characters only (checked when saved): no "|" or ">" to end the link early.
        title = _mrkdwn(message.runbook_title.replace("|", "/"), MAX_TITLE_CHARS)
        blocks.append(_section(f"*Runbook:* <{_escape(message.runbook_url)}|{title}>"))
    return blocks


def _digest_line(item: DigestItem) -> str:
    # The link text must not contain "|" or ">", which end it; the URL is AIMS's own.
    title = _mrkdwn(item.title.replace("|", "/"), MAX_DIGEST_TITLE_CHARS)
    return f"• *{_escape(item.severity.upper())}* {_escape(item.event)}: <{item.url}|{title}>"


def _digest_blocks(message: NotificationMessage) -> list[dict]:
    items = message.digest_items
    blocks = [_section(_digest_line(item)) for item in items[:MAX_DIGEST_ITEMS]]
    if len(items) > MAX_DIGEST_ITEMS:
        blocks.append(_section(f"_and {len(items) - MAX_DIGEST_ITEMS} more_"))
    return blocks


def block_kit_payload(message: NotificationMessage) -> dict:
    """The incoming-webhook body: at most 25 blocks, each within Slack's per-block limits."""
    is_digest = message.event == "digest"
    # plain_text is shown as is, never parsed, so the header needs no escaping.
    header = {
        "type": "header",
        "text": {"type": "plain_text", "text": clip(message.headline, MAX_HEADER_CHARS), "emoji": True},
    }
    body = _digest_blocks(message) if is_digest else _incident_blocks(message)
    mention = _mention(message)
    if mention:
        body.insert(0, _section(f"{mention} you are on call: please acknowledge."))
    context = f"AIMS · {_escape(message.event)}"
    if message.incident_id is not None:
        context += f" · incident #{message.incident_id}"
    blocks = [header, *body, {"type": "context", "elements": [{"type": "mrkdwn", "text": context}]}]
    if message.url:
        button_text = "Open incidents" if is_digest else "Open incident"
        button = {
            "type": "button",
            "text": {"type": "plain_text", "text": button_text},
            "url": message.url,
            "action_id": "open_incident",
        }
        buttons = [button]
        if message.ack_url:
            buttons.append(
                {
                    "type": "button",
                    "text": {"type": "plain_text", "text": "Acknowledge"},
                    "url": message.ack_url,
                    "action_id": "acknowledge_incident",
                    "style": "primary",
                },
            )
        blocks.append({"type": "actions", "elements": buttons})
    fallback = f"{message.headline}: {message.title}" if message.title else message.headline
    text = _mrkdwn(fallback, MAX_TEXT_CHARS - 20)
    return {"text": f"{mention} {text}" if mention else text, "blocks": blocks}


def _mention(message: NotificationMessage) -> str:
    """`<@U012ABCDEF>`, which an incoming webhook turns into a mention that notifies the member (webhooks cannot
    send a direct message); only a well-formed member id, so no other markup can be formed."""
    member = message.mention_id
    return f"<@{member}>" if SLACK_MEMBER_ID.match(member) else ""


class SlackSender:
    def __init__(self, *, timeout: float) -> None:
        self.timeout = timeout

    def send(self, channel: ChannelConfig, message: NotificationMessage, *, delivery_id: str) -> DeliveryResult:
        missing = CHANNEL.missing(channel)
        if missing:
            return DeliveryResult(ok=False, error=missing, retryable=False)
        body = json.dumps(block_kit_payload(message), ensure_ascii=False).encode()
        return post_json(channel.url, body, {"Content-Type": "application/json"}, timeout=self.timeout)
