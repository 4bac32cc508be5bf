"""Notification payload builders checked against each service's rules: the Teams Adaptive Card (and the Teams sender
keeping it under Teams' size limit), Slack's Block Kit, and the generic webhook's documented body."""

import json

import pytest

from incidents.notify.slack import block_kit_payload
from incidents.notify.teams import TeamsSender, adaptive_card_payload, markdown_escaped
from incidents.notify.webhook import webhook_body
from tests.incidents.notify_messages import (
    ADF_ERROR,
    HOSTILE_ERROR,
    make_channel_config,
    make_digest,
    make_message,
)

TEAMS_MAX_BYTES = 28 * 1024


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
    card = _check_teams_payload(adaptive_card_payload(make_message()))

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
    card = adaptive_card_payload(make_message(connection="", failed_step="", occurrences=0))["attachments"][0][
        "content"
    ]

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
    card = adaptive_card_payload(make_message(event=event, severity=severity))["attachments"][0]["content"]

    assert card["body"][0]["color"] == color


def test_adaptive_card_payload_100kb_error_trimmed_to_1500_chars():
    card = _check_teams_payload(adaptive_card_payload(make_message(error="E" * 100_000)))

    error_block = next(element for element in card["body"] if element.get("fontType") == "Monospace")
    assert len(error_block["text"]) == 1500 and error_block["text"].endswith("…")


def test_teams_sender_every_text_huge_and_non_ascii_stays_under_28kb(receiver):
    huge = "接続に失敗しました🔥" * 10_000  # 100 K characters of 3 and 4 UTF-8 bytes each
    message = make_message(
        headline=huge, title=huge, summary=huge, error=huge, category=huge, pipeline=huge, actions=(huge,) * 50
    )

    result = TeamsSender(timeout=5).send(
        make_channel_config("teams", receiver.url + "/hook"), message, delivery_id="d-1"
    )

    assert result.ok
    assert len(receiver.requests[0].body) <= TEAMS_MAX_BYTES
    _check_teams_payload(receiver.requests[0].json())


def test_adaptive_card_payload_digest_links_20_items_and_counts_the_rest():
    card = _check_teams_payload(adaptive_card_payload(make_digest(25)))

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
    payload = block_kit_payload(make_message())

    _check_slack_limits(payload)
    assert payload["blocks"][0]["text"]["text"] == "Incident opened"
    assert payload["text"] == "Incident opened: pl_sales_daily: cannot connect to sql-prod"
    fields = next(block["fields"] for block in payload["blocks"] if "fields" in block)
    assert {"type": "mrkdwn", "text": "*Severity*\nHIGH"} in fields
    assert any(text.startswith("```\nErrorCode=SqlFailedToConnect") for text in _section_texts(payload))
    button = payload["blocks"][-1]["elements"][0]
    assert button["url"] == "https://aims.example.com/incidents/42/" and button["text"]["text"] == "Open incident"


def test_block_kit_payload_100kb_error_within_limits():
    payload = block_kit_payload(make_message(error="E" * 100_000, title="T" * 100_000, summary="S" * 100_000))

    _check_slack_limits(payload)
    error_text = next(text for text in _section_texts(payload) if text.startswith("```"))
    assert error_text.endswith("…\n```")


def test_block_kit_payload_user_text_escaped():
    payload = block_kit_payload(make_message(error=HOSTILE_ERROR, title="Load <orders> & <!here>"))

    sent = json.dumps(payload)
    assert "<script>" not in sent and "<!channel>" not in sent and "<!here>" not in sent
    assert "<https://evil.example" not in sent
    error_text = next(text for text in _section_texts(payload) if text.startswith("```"))
    assert "&lt;script&gt;alert('x')&lt;/script&gt; &amp; &lt;!channel&gt;" in error_text
    assert "Load &lt;orders&gt; &amp; &lt;!here&gt;" in _section_texts(payload)


def test_block_kit_payload_trimmed_error_never_splits_an_entity():
    payload = block_kit_payload(make_message(error="&" * 5_000))

    error_text = next(text for text in _section_texts(payload) if text.startswith("```"))
    inner = error_text.removeprefix("```\n").removesuffix("…\n```")
    assert len(error_text) <= 3000
    assert inner and inner.replace("&amp;", "") == ""


def test_block_kit_payload_digest_shows_20_and_says_how_many_more():
    payload = block_kit_payload(make_digest(60))

    _check_slack_limits(payload)
    texts = _section_texts(payload)
    assert sum("<https://aims.example.com/i/" in text for text in texts) == 20
    assert "• *MEDIUM* opened: <https://aims.example.com/i/0/|pl_load_0 failed>" in texts
    assert texts[-1] == "_and 40 more_"


# --- Webhook body and signature --------------------------------------------------------------------------------
def test_webhook_body_documented_shape():
    body = webhook_body(make_digest(2), delivery_id="d-7")

    assert set(body) == {"version", "delivery_id", "event", "incident", "analysis", "error", "digest", "runbook"}
    assert (body["version"], body["delivery_id"], body["event"]) == (1, "d-7", "digest")
    assert set(body["incident"]) == {
        "id", "title", "status", "severity", "category", "pipeline", "connection", "failed_step", "occurrences", "url"
    }  # fmt: skip
    assert body["analysis"]["recommended_actions"] == list(make_message().actions)
    assert body["digest"][1] == {
        "title": "pl_load_1 failed",
        "event": "opened",
        "severity": "medium",
        "url": "https://aims.example.com/i/1/",
    }
