"""Runbooks: which applies (the most specific first), the URL check against hostile links, where they are shown
(the incident page, every channel kind's notification) and who may edit them."""

import json

import pytest
from django.core.exceptions import ValidationError

from aimsweb.choices import ErrorCategory
from incidents.models import Runbook, runbook_url_problem
from incidents.notify.email import email_parts
from incidents.notify.slack import block_kit_payload
from incidents.notify.teams import adaptive_card_payload
from incidents.notify.webhook import webhook_body
from incidents.selectors import runbooks_for
from tests.admin_forms import admin_post_data
from tests.incidents.factories import make_incident
from tests.incidents.notify_messages import make_message
from tests.monitors.factories import make_connection, make_pipeline, make_run

pytestmark = pytest.mark.django_db


def _runbook(title: str, **fields) -> Runbook:
    return Runbook.objects.create(title=title, url=f"https://wiki.example.com/{title.replace(' ', '-')}", **fields)


def test_runbooks_for_most_specific_first():
    connection = make_connection()
    other = make_connection()
    _runbook("everything", pipeline_pattern="*")
    _runbook("transient", category=ErrorCategory.TRANSIENT)
    _runbook("sales", pipeline_pattern="sales_*")
    _runbook("sales-daily-transient", pipeline_pattern="sales_daily*", category=ErrorCategory.TRANSIENT)
    _runbook("this-connection", connection=connection)
    _runbook("other-connection", connection=other)
    _runbook("code", category=ErrorCategory.CODE)
    _runbook("off", pipeline_pattern="*", enabled=False)

    found = runbooks_for(connection_id=connection.pk, pipeline_name="sales_daily_load", category="transient")

    assert [runbook.title for runbook in found] == [
        "sales-daily-transient",  # pattern and class
        "sales",  # a pattern weighs more than a class
        "transient",
        "this-connection",
        "everything",
    ]


def test_runbooks_for_longer_pattern_wins_between_patterns():
    _runbook("broad", pipeline_pattern="s*")
    _runbook("narrow", pipeline_pattern="sales_daily_*")

    found = runbooks_for(connection_id=None, pipeline_name="sales_daily_x", category="code")

    assert [runbook.title for runbook in found] == ["narrow", "broad"]


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JavaScript:alert(document.cookie)",
        "data:text/html,<script>alert(1)</script>",
        "http://wiki.example.com/runbook",  # plain http off this machine
        "https://user:secret@wiki.example.com/",
        'https://wiki.example.com/"><script>alert(1)</script>',
        "https://wiki.example.com/a b",
        "https://wiki.example.com/x|<!channel>",
        "https://wiki.example.com/" + "a" * 500,
        "//wiki.example.com/no-scheme",
        "https://",
        "",
    ],
)
def test_runbook_url_hostile_refused(url):
    assert runbook_url_problem(url)
    runbook = Runbook(title="t", url=url, pipeline_pattern="*")
    with pytest.raises(ValidationError) as error:
        runbook.full_clean()
    assert "url" in error.value.message_dict


@pytest.mark.parametrize(
    "url", ["https://wiki.example.com/runbooks/adf#sql-timeout", "http://127.0.0.1:8080/rb", "http://localhost/rb"]
)
def test_runbook_url_fine_accepted(url):
    assert runbook_url_problem(url) == ""


def test_runbook_needs_what_it_applies_to():
    with pytest.raises(ValidationError) as error:
        Runbook(title="t", url="https://wiki.example.com/").full_clean()
    assert "pipeline_pattern" in error.value.message_dict


def test_runbook_stored_hostile_url_never_a_link(responder_client):
    """A row written around the form (a script, a migration) is shown as text, never as a javascript: link."""
    run = make_run(pipeline=make_pipeline(name="sales_daily"))
    incident = make_incident(run)
    Runbook.objects.create(title="<b>Evil</b>", url="javascript:alert(1)", pipeline_pattern="*")

    html = responder_client.get(f"/incidents/{incident.pk}/").content.decode()

    assert "javascript:" not in html
    assert "&lt;b&gt;Evil&lt;/b&gt;" in html


def test_incident_page_shows_runbook_most_specific_first(viewer_client):
    run = make_run(pipeline=make_pipeline(name="sales_daily"))
    incident = make_incident(run)
    _runbook("General", pipeline_pattern="*")
    _runbook("Sales loads", pipeline_pattern="sales_*")

    html = viewer_client.get(f"/incidents/{incident.pk}/").content.decode()

    assert html.index("Sales loads") < html.index("General")
    assert (
        'Runbook: <a href="https://wiki.example.com/Sales-loads" rel="noopener noreferrer" target="_blank">'
        "Sales loads</a>" in html
    )


HOSTILE_TITLE = "Fix [it](https://evil.example) <!channel> *now*"


def test_notification_runbook_line_every_kind():
    message = make_message(runbook_title=HOSTILE_TITLE, runbook_url="https://wiki.example.com/rb(1)")

    body = adaptive_card_payload(message)["attachments"][0]["content"]["body"]
    assert body[-1]["text"] == (
        r"**Runbook:** [Fix \[it\]\(https\[:\]//evil.example\) \<!channel\> \*now\*](https://wiki.example.com/rb%281%29)"
    )

    slack = json.dumps(block_kit_payload(message))
    assert "*Runbook:* <https://wiki.example.com/rb(1)|Fix [it](https://evil.example) &lt;!channel&gt; *now*>" in slack

    assert webhook_body(message, delivery_id="d")["runbook"] == {
        "title": HOSTILE_TITLE,
        "url": "https://wiki.example.com/rb(1)",
    }

    _, text, html = email_parts(message)
    assert f"Runbook: {HOSTILE_TITLE} https://wiki.example.com/rb(1)" in text
    assert '<a href="https://wiki.example.com/rb(1)"' in html
    assert "&lt;!channel&gt;" in html


def test_notification_without_runbook_has_no_line():
    message = make_message()
    assert "Runbook" not in json.dumps(adaptive_card_payload(message))
    assert "Runbook" not in json.dumps(block_kit_payload(message))
    assert webhook_body(message, delivery_id="d")["runbook"] is None
    assert "Runbook" not in email_parts(message)[1]


def test_notification_message_carries_most_specific_runbook():
    from incidents.models import Notification, NotificationChannel
    from incidents.services.notification_messages import notification_message as _message

    run = make_run(pipeline=make_pipeline(name="sales_daily"))
    incident = make_incident(run)
    _runbook("General", pipeline_pattern="*")
    _runbook("Sales", pipeline_pattern="sales_*")
    channel = NotificationChannel.objects.create(name="mail", kind="email", recipients="a@example.com")
    notification = Notification.objects.create(channel=channel, incident=incident, event="opened", dedup_key="k")

    message = _message(notification)

    assert (message.runbook_title, message.runbook_url) == ("Sales", "https://wiki.example.com/Sales")


def test_runbook_admin_refuses_hostile_url(admin_client_):
    page = admin_client_.get("/admin/incidents/runbook/add/")
    data = admin_post_data(page, title="Bad", url="javascript:alert(1)", pipeline_pattern="*")

    response = admin_client_.post("/admin/incidents/runbook/add/", data)

    assert response.status_code == 200
    assert "Use an https:// URL." in response.content.decode()
    assert not Runbook.objects.exists()


def test_runbook_admin_viewer_cannot_add(viewer_client):
    response = viewer_client.post("/admin/incidents/runbook/add/", {"title": "x", "url": "https://a.example/"})
    assert response.status_code == 403
    assert not Runbook.objects.exists()


def test_runbook_admin_saves_valid_runbook(admin_client_):
    page = admin_client_.get("/admin/incidents/runbook/add/")
    data = admin_post_data(
        page, title="SQL timeouts", url="https://wiki.example.com/sql#timeouts", category="transient", enabled="on"
    )

    response = admin_client_.post("/admin/incidents/runbook/add/", data)

    assert response.status_code == 302
    runbook = Runbook.objects.get()
    assert (runbook.title, runbook.url, runbook.category) == (
        "SQL timeouts",
        "https://wiki.example.com/sql#timeouts",
        "transient",
    )
