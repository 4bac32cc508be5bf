"""Notes on the incident page: comments, resolve notes and silence reasons shown as sanitised markdown under their
timeline sentence; the API keeps the raw text; the comment box keeps a draft across the page's other actions."""

from datetime import timedelta

import pytest
from django.utils import timezone

from incidents.services import Actor, incident_comment, incident_resolve, incident_silence
from tests.incidents.incident_page_helpers import make_failed_incident, url

pytestmark = pytest.mark.django_db
HOSTILE = "**Fixed** by [runbook](https://wiki.example/rb) <script>alert(1)</script> [x](javascript:alert(1))"


def test_comment_rendered_as_markdown_and_hostile_parts_neutralised(viewer_client, responder):
    incident = make_failed_incident()
    incident_comment(incident_id=incident.pk, actor=Actor.of_user(responder), text=HOSTILE)

    html = viewer_client.get(url(incident)).content.decode()

    note = html[html.index('data-testid="event-note"') :]
    note = note[: note.index("</div>")]
    assert "<strong>Fixed</strong>" in note
    assert '<a href="https://wiki.example/rb" rel="noopener noreferrer nofollow">runbook</a>' in note
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in note and "<script>" not in note
    assert "javascript:" not in note.split("[x]")[0] and 'href="javascript' not in note


def test_resolve_note_and_silence_reason_rendered_under_their_sentence(viewer_client, responder):
    incident = make_failed_incident()
    actor = Actor.of_user(responder)
    incident_silence(
        incident_id=incident.pk, actor=actor, until=timezone.now() + timedelta(hours=1), reason="waiting for *vendor*"
    )
    incident_resolve(incident_id=incident.pk, actor=actor, note="Restarted the `gateway`")

    html = viewer_client.get(url(incident)).content.decode()

    assert "<em>vendor</em>" in html and "<code>gateway</code>" in html
    assert '<div class="event-message error-text">Resolved.</div>' in html


def test_resolve_form_posts_a_note_shown_in_the_timeline(responder_client):
    incident = make_failed_incident()

    response = responder_client.post(url(incident, "resolve"), {"note": "Rotated the **secret**"}, follow=True)

    assert "<strong>secret</strong>" in response.content.decode()


def test_comment_box_is_preserved_across_swaps_and_keeps_a_draft(responder_client):
    incident = make_failed_incident()

    html = responder_client.get(url(incident)).content.decode()

    box = html[html.index('<textarea name="text"') :]
    box = box[: box.index(">")]
    assert 'hx-preserve="true"' in box and f'data-draft-key="incident-{incident.pk}-comment"' in box
    assert 'data-draft-for="comment-text"' in html and 'id="comment-text"' in box
