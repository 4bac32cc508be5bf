"""The timeline as data: entries store a kind and parameters and are put into words when read; entries written as
sentences by earlier versions are read back into parameters by migration 0013, or kept verbatim."""

import importlib
from datetime import UTC, datetime, timedelta

import pytest
from django.apps import apps

from incidents.models import IncidentEvent
from incidents.timeline import event_text
from tests.incidents.factories import make_incident
from tests.monitors.factories import make_run

convert = importlib.import_module("incidents.migrations.0013_timeline_as_data")

AT = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)

# (kind, params, note, words): what each kind says, with the parameters the services store.
WORDS = [
    ("opened", {"subject_label": "run r-1", "category": "transient"}, "", "Opened by run r-1: transient error."),
    ("occurred", {"subject_label": "run r-2", "count": 3}, "", "Failed again: run r-2 (occurrence 3)."),
    (
        "reopened",
        {"subject_label": "run r-3", "resolved_at": (AT - timedelta(minutes=7, seconds=5)).isoformat()},
        "",
        "Reopened by run r-3, 7 min 5 s after it was resolved.",
    ),
    ("reopened", {}, "", "Reopened by hand."),
    ("acknowledged", {}, "", "Acknowledged."),
    ("resolved", {}, "", "Resolved."),
    ("resolved", {}, "restarted the gateway", "Resolved: restarted the gateway"),
    ("auto_resolved", {"attempt_number": 1, "max_attempts": 3}, "", "Recovered by retry 1 of 3."),
    ("auto_resolved", {"attempt_number": 2, "max_attempts": None}, "", "Recovered by retry 2 (by hand)."),
    ("auto_resolved", {"subject_label": "run r-4"}, "", "Resolved automatically: run r-4 succeeded."),
    (
        "silenced",
        {"until": "2026-12-07T12:00:00+00:00"},
        "known outage",
        "Silenced until 2026-12-07 12:00 UTC: known outage",
    ),
    ("silenced", {"until": "2026-12-07T12:00:00+00:00"}, "", "Silenced until 2026-12-07 12:00 UTC."),
    ("unsilenced", {}, "", "Silence ended."),
    ("assigned", {"assignee_id": 4, "assignee": "casey"}, "", "Assigned to casey."),
    ("assigned", {"assignee": None}, "", "Unassigned."),
    ("commented", {}, "gateway restarted", "gateway restarted"),
    ("ticket_linked", {"system": "Jira", "key": "OPS-1", "url": ""}, "", "Linked Jira OPS-1."),
    (
        "retry_scheduled",
        {
            "attempt_number": 1,
            "max_attempts": 3,
            "delay_seconds": 300.0,
            "policy": "Transient",
            "platform": "adf",
            "mode": "recover",
        },
        "",
        "Retry 1 of 3 scheduled in 5 min (policy “Transient”): ADF recovery run from the failed activity.",
    ),
    (
        "retry_scheduled",
        {
            "attempt_number": 1,
            "max_attempts": None,
            "delay_seconds": 0,
            "policy": None,
            "platform": "databricks",
            "mode": "full",
        },
        "",
        "Retry 1 scheduled now (request): new Databricks run of the job.",
    ),
    (
        "retry_started",
        {
            "attempt_number": 2,
            "adopted": False,
            "platform": "adf",
            "mode": "recover",
            "failed_step": "Copy",
            "rerun_id": "x-9",
        },
        "",
        "Retry 2 started: ADF recovery run from the failed activity (from Copy), x-9.",
    ),
    (
        "retry_started",
        {
            "attempt_number": 1,
            "adopted": True,
            "platform": "databricks",
            "mode": "recover",
            "failed_step": "",
            "rerun_id": "7",
        },
        "",
        "Retry 1 adopted (a stopped worker had started it): Databricks repair of the failed tasks, 7.",
    ),
    (
        "retry_succeeded",
        {"attempt_number": 1, "max_attempts": 3, "rerun_id": "x-9"},
        "",
        "Retry 1 of 3 succeeded (x-9).",
    ),
    (
        "retry_failed",
        {"attempt_number": 1, "max_attempts": None, "not_started": True, "error": "HTTP 409"},
        "",
        "Retry 1 (by hand) could not be started: HTTP 409",
    ),
    (
        "retry_failed",
        {"attempt_number": 2, "max_attempts": 3, "not_started": False, "error": ""},
        "",
        "Retry 2 of 3 failed.",
    ),
    (
        "retry_skipped",
        {"reason": "low_confidence", "reason_params": {"policy": "Transient", "confidence": 40, "required": 70}},
        "",
        "Not retried: the analysis is 40% confident, below the 70% policy “Transient” requires.",
    ),
    (
        "retry_skipped",
        {"reason": "no_policy", "reason_params": {"category": "code"}},
        "",
        "Not retried: no retry policy covers code failures here.",
    ),
    (
        "retry_skipped",
        {"attempt_number": 2, "reason": "incident_resolved", "reason_params": {}},
        "",
        "Retry 2 cancelled: the incident was resolved meanwhile.",
    ),
    (
        "escalated",
        {"reason": "exhausted", "max_attempts": 3},
        "",
        "Escalated: all 3 retries failed; a person needs to look at it.",
    ),
    (
        "escalated",
        {"reason": "policy_gone"},
        "",
        "Escalated: the retry policy no longer applies; a person needs to look at it.",
    ),
    (
        "escalated",
        {"after_minutes": 15, "channels": ["ops-teams", "ops-mail"]},
        "",
        "Not acknowledged 15 min after the page: notified ops-teams, ops-mail.",
    ),
    (
        "suppressed",
        {"reason": "retrying", "event": "opened"},
        "",
        "Page deferred: a retry is under way; it pages if it fails.",
    ),
    (
        "suppressed",
        {"reason": "maintenance", "window": "upgrade", "until": "2026-12-07T12:00:00+00:00", "event": "opened"},
        "",
        "Nobody notified (opened): maintenance window “upgrade” until 2026-12-07 12:00.",
    ),
    ("notified", {"channel": "ops-teams", "event": "opened"}, "", "Notified ops-teams (opened)."),
    (
        "notify_failed",
        {"channel": "ops-hook", "attempts": 3, "error": "HTTP 404"},
        "",
        "Could not notify ops-hook after 3 attempt(s): HTTP 404",
    ),
]


@pytest.mark.parametrize(("kind", "params", "note", "words"), WORDS)
def test_event_text_words_each_kind_from_its_params(kind, params, note, words, settings):
    settings.TIME_ZONE = "UTC"

    assert event_text(kind=kind, params=params, note=note, at=AT) == words


def test_event_text_shows_legacy_sentence_verbatim():
    params = {"legacy_text": "Reopened by run r-1, less than a minute after it was resolved.", "occurrence_id": 4}

    assert event_text(kind="reopened", params=params, note="", at=AT) == params["legacy_text"]


# Sentences the services wrote before the timeline became data (and which migration 0013 reads back).
OLD_SENTENCES = [
    (kind, words)
    for kind, params, note, words in WORDS
    if kind not in ("commented", "reopened", "retry_scheduled", "silenced")
    and "until" not in params
    or words in ("Reopened by hand.", "Retry 1 scheduled now (request): new Databricks run of the job.")
] + [
    ("reopened", "Reopened by run r-3, 7 min after it was resolved."),
    ("silenced", "Silenced until 2026-12-07 12:00 UTC: known outage"),
    ("retry_scheduled", "Retry 1 of 3 scheduled now (policy “Transient”): ADF rerun of the whole pipeline."),
]


@pytest.mark.parametrize(("kind", "sentence"), OLD_SENTENCES)
def test_migration_reads_old_sentence_back_into_params_that_say_the_same(kind, sentence, settings):
    settings.TIME_ZONE = "UTC"

    params, note = convert.read_back(kind, sentence, AT)

    assert "legacy_text" not in params
    assert event_text(kind=kind, params=params, note=note, at=AT) == sentence


@pytest.mark.parametrize(
    ("kind", "sentence"),
    [
        ("reopened", "Reopened by run r-1, less than a minute after it was resolved."),  # rounded when written
        ("retry_scheduled", "Retry 1 of 3 scheduled in 90 s (policy “T”): ADF rerun of the whole pipeline."),
        ("silenced", "Silenced until 2026-12-07 13:00 CET: lunch"),  # a local zone: the instant is not known
        ("opened", "Opened by run 42: weird error."),  # a category that no longer exists
        ("notified", "Sent to the on-call phone."),  # a wording of an older version
        ("suppressed", "Nobody notified (opened): the incident is silenced until 2026-12-07 12:00."),  # no zone
    ],
)
def test_migration_keeps_sentence_it_cannot_read_back_verbatim(kind, sentence):
    params, note = convert.read_back(kind, sentence, AT)

    assert params == {"legacy_text": sentence} and note == ""
    assert event_text(kind=kind, params=params, note=note, at=AT) == sentence


@pytest.mark.django_db
def test_migration_converts_stored_sentences_and_keeps_ids_and_comments(settings):
    settings.TIME_ZONE = "UTC"
    incident = make_incident(make_run())
    IncidentEvent.objects.all().delete()
    old = [
        ("retry_succeeded", "Retry 1 of 3 succeeded (x-9).", {"attempt_id": 12}),
        ("resolved", "Resolved: restarted the gateway", {}),
        ("commented", "Resolved: this is a comment, kept as written", {}),
        ("notified", "Sent to the on-call phone.", {"notification_id": 3}),
        ("acknowledged", "", {}),
    ]
    for kind, sentence, params in old:  # as 0013 finds them: the sentence in the renamed column
        IncidentEvent.objects.create(incident=incident, kind=kind, note=sentence, params=params, created_at=AT)

    convert.events_convert(apps, None)

    events = list(IncidentEvent.objects.order_by("pk"))
    assert [event.text for event in events] == [sentence or "Acknowledged." for _, sentence, _ in old]
    assert events[0].params == {"attempt_id": 12, "attempt_number": 1, "max_attempts": 3, "rerun_id": "x-9"}
    assert events[0].note == "" and events[1].note == "restarted the gateway"
    assert events[2].note == "Resolved: this is a comment, kept as written" and events[2].params == {}
    assert events[3].params == {"notification_id": 3, "legacy_text": "Sent to the on-call phone."}


@pytest.mark.django_db
def test_services_store_what_happened_as_data_and_only_people_write_notes(
    django_capture_on_commit_callbacks, responder
):
    from incidents.services.events import Actor
    from incidents.services.incidents import incident_acknowledge, incident_resolve
    from incidents.services.triage import failure_triage

    with django_capture_on_commit_callbacks(execute=True):
        incident = failure_triage(run_id=make_run(error_message="Operation timed out after 30 s").pk)
        incident_acknowledge(incident_id=incident.pk, actor=Actor.of_user(responder))
        incident_resolve(incident_id=incident.pk, actor=Actor.of_user(responder), note="restarted the gateway")

    events = {event.kind: event for event in incident.events.all()}
    opened = events["opened"]
    assert opened.note == "" and opened.params["category"] == incident.category
    assert opened.params["occurrence_id"] == incident.latest_occurrence_id
    assert opened.text.startswith(f"Opened by {opened.params['subject_label']}: ")
    assert (events["acknowledged"].note, events["acknowledged"].params) == ("", {})
    assert events["resolved"].note == "restarted the gateway" and events["resolved"].params == {}
    assert all(not event.note for kind, event in events.items() if kind != "resolved")


@pytest.mark.django_db
def test_admin_shows_event_words_note_and_params(admin_client_):
    incident = make_incident(make_run())
    event = IncidentEvent.objects.create(
        incident=incident, kind="resolved", note="restarted <b>the gateway</b>", params={"attempt_id": 7}
    )

    page = admin_client_.get(f"/admin/incidents/incidentevent/{event.pk}/change/")
    listing = admin_client_.get(f"/admin/incidents/incident/{incident.pk}/change/").content.decode()

    assert page.status_code == 200
    assert "Resolved: restarted &lt;b&gt;the gateway&lt;/b&gt;" in page.content.decode()
    assert "attempt_id" in page.content.decode()
    assert "Resolved: restarted &lt;b&gt;the gateway&lt;/b&gt;" in listing
