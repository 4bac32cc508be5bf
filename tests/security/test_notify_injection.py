"""Finding 11: text from an error or a user cannot become a link, mention or formatting in Teams or Slack."""

import json

from incidents.notify.base import NotificationMessage
from incidents.notify.slack import block_kit_payload
from incidents.notify.teams import adaptive_card_payload

PHISH = "Login failed. [Reset your password here](https://evil.example/reset) **now** <!channel> <@U012ABC>"


def _message(text: str) -> NotificationMessage:
    return NotificationMessage(
        event="opened",
        headline="Incident opened",
        title=f"pl_orders: {text}",
        severity="high",
        status="Open",
        category="Permission",
        summary=text,
        root_cause=text,
        error=text,
        pipeline=f"pl_{text}",
        connection="adf-prod",
        failed_step=text,
        occurrences=1,
        url="https://aims.example/incidents/1/",
        incident_id=1,
        actions=(text,),
    )


def _texts(node) -> list[str]:
    """Every text a Teams card shows as markdown (TextBlock text and FactSet values)."""
    if isinstance(node, dict):
        found = [node["text"]] if node.get("type") == "TextBlock" else []
        found += [fact["value"] for fact in node.get("facts", [])]
        return found + [text for value in node.values() for text in _texts(value)]
    if isinstance(node, list):
        return [text for item in node for text in _texts(item)]
    return []


def test_teams_card_error_text_forms_no_markdown_link():
    """Finding 11: a markdown link in error text stays literal text in every Teams TextBlock and fact."""
    texts = _texts(adaptive_card_payload(_message(PHISH)))

    assert len(texts) >= 6
    for text in texts:
        assert "](" not in text.replace("\\](", "")  # no unescaped link
        assert "https://evil.example" not in text  # no bare autolink either
        assert "**now**" not in text


def test_slack_blocks_error_text_forms_no_link_or_mention():
    """Finding 11: Slack mrkdwn gets no <url|text> link, no <!channel> and no <@user> mention from error text."""
    body = json.dumps(block_kit_payload(_message(PHISH)))

    assert "<!channel>" not in body and "<@U012ABC>" not in body
    assert "&lt;!channel&gt;" in body


def test_teams_digest_title_forms_no_second_link():
    """Finding 11: an incident title with markdown cannot add a link to a Teams digest line."""
    from incidents.notify.base import DigestItem

    message = _message("x")
    digest = NotificationMessage(
        **{
            **message.__dict__,
            "event": "digest",
            "digest_items": (DigestItem(PHISH, "opened", "high", "https://aims.example/incidents/2/"),),
        }
    )
    line = _texts(adaptive_card_payload(digest))[1]

    assert line.count("](") == 1 and line.endswith("](https://aims.example/incidents/2/)")
