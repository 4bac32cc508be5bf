"""The on-call person in the Slack and Teams messages: a mention that notifies them, built only from a well-formed
id, and the signed Acknowledge link after "Open incident"."""

from dataclasses import replace

from incidents.notify.base import NotificationMessage
from incidents.notify.slack import block_kit_payload
from incidents.notify.teams import adaptive_card_payload

MESSAGE = NotificationMessage(
    event="escalated",
    headline="Escalated",
    title="orders load failed",
    severity="high",
    status="Triggered",
    category="Transient",
    summary="",
    root_cause="",
    error="",
    pipeline="orders",
    connection="adf",
    failed_step="",
    occurrences=1,
    url="https://aims.example.com/incidents/1/",
    incident_id=1,
    ack_url="https://aims.example.com/incidents/1/ack/token/",
    mention_name="alice",
    mention_id="U0ALICE1",
)


def test_slack_mentions_the_member_and_offers_acknowledge_after_open():
    payload = block_kit_payload(MESSAGE)
    assert payload["text"].startswith("<@U0ALICE1> ")
    buttons = payload["blocks"][-1]["elements"]
    assert [b["action_id"] for b in buttons] == ["open_incident", "acknowledge_incident"]
    assert buttons[1]["url"] == MESSAGE.ack_url


def test_slack_refuses_a_member_id_that_could_form_markup():
    payload = block_kit_payload(replace(MESSAGE, mention_id="<!channel>"))
    assert "<!channel>" not in str(payload) and not payload["text"].startswith("<@")


def test_teams_mentions_the_user_by_upn_with_an_entity():
    card = adaptive_card_payload(replace(MESSAGE, mention_id="alice@example.com"))["attachments"][0]["content"]
    (entity,) = card["msteams"]["entities"]
    assert entity == {
        "type": "mention",
        "text": "<at>alice</at>",
        "mentioned": {"id": "alice@example.com", "name": "alice"},
    }
    assert "<at>alice</at>" in card["body"][1]["text"]
    assert [a["title"] for a in card["actions"]] == ["Open incident", "Acknowledge"]


def test_teams_without_a_person_has_no_mention():
    card = adaptive_card_payload(replace(MESSAGE, mention_id="", mention_name="", ack_url=""))["attachments"][0]
    assert "entities" not in card["content"]["msteams"] and len(card["content"]["actions"]) == 1
