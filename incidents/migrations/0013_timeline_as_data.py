"""The timeline becomes data: `message` (sentences built when the event happened) becomes `note` (only what a person
wrote), `details` becomes `params`, and each existing entry's sentence is read back into its kind's parameters, so
incidents.timeline words it as before. A sentence whose parameters cannot be recovered exactly (older wordings,
times shown in a local zone, durations rounded when written) is kept whole in params["legacy_text"] and shown as it
was: nothing is lost. In batches; comments keep their text as their note."""

import re
from datetime import UTC, datetime, timedelta

from django.db import migrations, models

BATCH = 2000

CATEGORIES = {
    "transient": "transient",
    "resource": "resource",
    "configuration": "configuration",
    "permission": "permission",
    "data quality": "data_quality",
    "code": "code",
    "unknown": "unknown",
}
RERUNS = {
    "ADF recovery run from the failed activity": ("adf", "recover"),
    "ADF rerun of the whole pipeline": ("adf", "full"),
    "Databricks repair of the failed tasks": ("databricks", "recover"),
    "new Databricks run of the job": ("databricks", "full"),
}
RERUN = "(?P<rerun>" + "|".join(re.escape(words) for words in RERUNS) + ")"
ATTEMPT = r"Retry (?P<n>\d+)(?: of (?P<max>\d+)| \(by hand\))?"


def _attempt(match: re.Match) -> dict:
    most = match.groupdict().get("max")
    return {"attempt_number": int(match["n"]), "max_attempts": int(most) if most else None}


def _rerun(match: re.Match) -> dict:
    platform, mode = RERUNS[match["rerun"]]
    return {"platform": platform, "mode": mode}


SKIPS = [
    (r"maintenance window “(?P<window>.*)” is active\.", "maintenance", lambda m: {"window": m["window"]}),
    (
        r"no retry policy covers (?P<category>.+) failures here\.",
        "no_policy",
        lambda m: {"category": CATEGORIES.get(m["category"], "")},
    ),
    (
        r"policy “(?P<policy>.*)” would allow it, but the analysis advises against a retry\.",
        "advised_against",
        lambda m: {"policy": m["policy"]},
    ),
    (
        r"the analysis is (?P<confidence>\d+)% confident, below the (?P<required>\d+)% policy “(?P<policy>.*)” requires\.",
        "low_confidence",
        lambda m: {"confidence": int(m["confidence"]), "required": int(m["required"]), "policy": m["policy"]},
    ),
    (r"the retry policy that scheduled it no longer applies\.", "policy_gone", lambda m: {}),
    (r"the incident was resolved meanwhile\.", "incident_resolved", lambda m: {}),
]


def _skip(why: str) -> dict | None:
    for pattern, reason, params in SKIPS:
        match = re.fullmatch(pattern, why, re.DOTALL)
        if match:
            return {"reason": reason, "reason_params": params(match)}
    return None


def _utc(stamp: str) -> str:
    return datetime.strptime(stamp, "%Y-%m-%d %H:%M").replace(tzinfo=UTC).isoformat()


# (kind, pattern, what the match gives: (params, note)); the first pattern of the event's kind that matches wins.
READERS = [
    ("acknowledged", r"Acknowledged\.", lambda m, at: ({}, "")),
    ("resolved", r"Resolved\.", lambda m, at: ({}, "")),
    ("resolved", r"Resolved: (?P<note>.*)", lambda m, at: ({}, m["note"])),
    ("reopened", r"Reopened by hand\.", lambda m, at: ({}, "")),
    (
        "reopened",
        r"Reopened by (?P<subject>.+), (?P<minutes>\d+) min after it was resolved\.",
        lambda m, at: (
            {"subject_label": m["subject"], "resolved_at": (at - timedelta(minutes=int(m["minutes"]))).isoformat()},
            "",
        ),
    ),
    (
        "opened",
        r"Opened by (?P<subject>.+): (?P<category>[a-z ]+) error\.",
        lambda m, at: (
            ({"subject_label": m["subject"], "category": CATEGORIES[m["category"]]}, "")
            if m["category"] in CATEGORIES
            else None
        ),
    ),
    (
        "occurred",
        r"Failed again: (?P<subject>.+) \(occurrence (?P<count>\d+)\)\.",
        lambda m, at: ({"subject_label": m["subject"], "count": int(m["count"])}, ""),
    ),
    ("auto_resolved", r"Recovered by r" + ATTEMPT[1:] + r"\.", lambda m, at: (_attempt(m), "")),
    (
        "auto_resolved",
        r"Resolved automatically: (?P<subject>.+) succeeded\.",
        lambda m, at: ({"subject_label": m["subject"]}, ""),
    ),
    (
        "silenced",
        r"Silenced until (?P<until>\d{4}-\d\d-\d\d \d\d:\d\d) UTC(?:: (?P<note>.*)|\.)",
        lambda m, at: ({"until": _utc(m["until"])}, m["note"] or ""),
    ),
    ("unsilenced", r"Silence ended\.", lambda m, at: ({}, "")),
    ("assigned", r"Unassigned\.", lambda m, at: ({"assignee": None}, "")),
    ("assigned", r"Assigned to (?P<who>.+)\.", lambda m, at: ({"assignee": m["who"]}, "")),
    (
        "ticket_linked",
        r"Linked (?P<system>\S+) (?P<key>.+)\.",
        lambda m, at: ({"system": m["system"], "key": m["key"]}, ""),
    ),
    (
        "retry_scheduled",
        ATTEMPT + r" scheduled now \((?:policy “(?P<policy>.*)”|request)\): " + RERUN + r"\.",
        lambda m, at: ({**_attempt(m), "delay_seconds": 0, "policy": m["policy"], **_rerun(m)}, ""),
    ),
    (
        "retry_started",
        r"Retry (?P<n>\d+) (?P<how>started|adopted \(a stopped worker had started it\)): "
        + RERUN
        + r"(?: \(from (?P<step>.+)\))?, (?P<rerun_id>.*)\.",
        lambda m, at: (
            {
                "attempt_number": int(m["n"]),
                "adopted": m["how"] != "started",
                "failed_step": m["step"] or "",
                "rerun_id": m["rerun_id"],
                **_rerun(m),
            },
            "",
        ),
    ),
    (
        "retry_succeeded",
        ATTEMPT + r" succeeded \((?P<rerun_id>.*)\)\.",
        lambda m, at: ({**_attempt(m), "rerun_id": m["rerun_id"]}, ""),
    ),
    (
        "retry_failed",
        ATTEMPT + r" (?P<words>failed|could not be started)(?:: (?P<error>.*)|\.)",
        lambda m, at: ({**_attempt(m), "not_started": m["words"] != "failed", "error": m["error"] or ""}, ""),
    ),
    ("retry_skipped", r"Not retried: (?P<why>.*)", lambda m, at: _skip_params(m, {})),
    ("retry_skipped", r"Retry (?P<n>\d+) cancelled: (?P<why>.*)", lambda m, at: _skip_params(m, _attempt(m))),
    (
        "escalated",
        r"Escalated: all (?P<max>\d+) retries failed; a person needs to look at it\.",
        lambda m, at: ({"reason": "exhausted", "max_attempts": int(m["max"])}, ""),
    ),
    (
        "escalated",
        r"Escalated: the retry policy no longer applies; a person needs to look at it\.",
        lambda m, at: ({"reason": "policy_gone"}, ""),
    ),
    (
        "escalated",
        r"Not acknowledged (?P<after>\d+) min after the page: notified (?P<names>.*)\.",
        lambda m, at: ({"after_minutes": int(m["after"]), "channels": m["names"].split(", ")}, ""),
    ),
    (
        "suppressed",
        r"Page deferred: a retry is under way; it pages if it fails\.",
        lambda m, at: ({"reason": "retrying"}, ""),
    ),
    (
        "notified",
        r"Notified (?P<channel>.+) \((?P<event>[^()]*)\)\.",
        lambda m, at: ({"channel": m["channel"], "event": m["event"]}, ""),
    ),
    (
        "notify_failed",
        r"Could not notify (?P<channel>.+?) after (?P<attempts>\d+) attempt\(s\): (?P<error>.*)",
        lambda m, at: ({"channel": m["channel"], "attempts": int(m["attempts"]), "error": m["error"]}, ""),
    ),
]


def _skip_params(match: re.Match, about: dict) -> tuple[dict, str] | None:
    skip = _skip(match["why"])
    return ({**about, **skip}, "") if skip is not None else None


def read_back(kind: str, message: str, at: datetime) -> tuple[dict, str]:
    """The parameters and note of an old entry's sentence; {"legacy_text": message} when no reader knows it."""
    for reader_kind, pattern, read in READERS:
        if reader_kind != kind:
            continue
        match = re.fullmatch(pattern, message, re.DOTALL)
        found = read(match, at) if match else None
        if found is not None:
            return found
    return ({"legacy_text": message} if message else {}), ""


def events_convert(apps, schema_editor):
    event_model = apps.get_model("incidents", "IncidentEvent")
    # Entries written before this change still have their sentence in `note` (the renamed column), and no words
    # of their own in params; a converted one has moved it out.
    pending = event_model.objects.exclude(note="").exclude(kind="commented").order_by("pk")
    last = 0
    while True:
        batch = list(pending.filter(pk__gt=last)[:BATCH])
        if not batch:
            return
        for event in batch:
            params, note = read_back(event.kind, event.note, event.created_at)
            event.params = {**(event.params or {}), **params}
            event.note = note
        event_model.objects.bulk_update(batch, ["params", "note"])
        last = batch[-1].pk


class Migration(migrations.Migration):
    dependencies = [("incidents", "0012_occurrences_of_counted_runs")]

    operations = [
        migrations.RenameField("incidentevent", "message", "note"),
        migrations.RenameField("incidentevent", "details", "params"),
        migrations.AlterField(
            model_name="incidentevent",
            name="note",
            field=models.TextField(
                blank=True, help_text="What a person wrote: a comment, a resolve note, a silence reason."
            ),
        ),
        migrations.AlterField(
            model_name="incidentevent",
            name="params",
            field=models.JSONField(
                blank=True,
                default=dict,
                help_text="What happened, as data (ids, numbers, names); see incidents.timeline.",
            ),
        ),
        # Back to the old columns, the sentences are not rebuilt: converted entries keep their note only.
        migrations.RunPython(events_convert, migrations.RunPython.noop, elidable=False),
    ]
