"""Titles people read, for the rows written before them: an incident (and each occurrence) of a failed run takes the
headline of its run's innermost error (else its analysis's summary), and every other title is cut to one line of
at most HEADLINE_MAX characters. A title someone edited (an `updated` timeline entry that changed it) is kept."""

from django.db import migrations

from aimsweb.headline import headline_cut, headline_title

BATCH = 500


def _title(occurrence) -> str:
    run = occurrence.run
    if occurrence.source != "pipeline_run" or run is None:
        return headline_cut(occurrence.title)
    summary = occurrence.analysis.summary if occurrence.analysis is not None else ""
    return headline_title(run.pipeline.name, run.error_message, fallback=summary) or headline_cut(occurrence.title)


def titles_readable(apps, schema_editor) -> None:
    Incident = apps.get_model("incidents", "Incident")
    Occurrence = apps.get_model("incidents", "Occurrence")
    IncidentEvent = apps.get_model("incidents", "IncidentEvent")
    edited = {
        incident_id
        for incident_id, params in IncidentEvent.objects.filter(kind="updated").values_list("incident_id", "params")
        if "title" in ((params or {}).get("changes") or {})
    }
    occurrences = Occurrence.objects.select_related("run__pipeline", "analysis").order_by("pk")
    first_title: dict[int, str] = {}  # an incident's title came from the occurrence that opened it
    changed = []
    for occurrence in occurrences.iterator(chunk_size=BATCH):
        title = _title(occurrence)
        if occurrence.incident_id is not None:
            first_title.setdefault(occurrence.incident_id, title)
        if title and title != occurrence.title:
            occurrence.title = title
            changed.append(occurrence)
        if len(changed) >= BATCH:
            Occurrence.objects.bulk_update(changed, ["title"])
            changed = []
    Occurrence.objects.bulk_update(changed, ["title"])
    changed = []
    for incident in Incident.objects.only("pk", "title").order_by("pk").iterator(chunk_size=BATCH):
        if incident.pk in edited:
            continue
        title = first_title.get(incident.pk) or headline_cut(incident.title)
        if title and title != incident.title:
            incident.title = title
            changed.append(incident)
        if len(changed) >= BATCH:
            Incident.objects.bulk_update(changed, ["title"])
            changed = []
    Incident.objects.bulk_update(changed, ["title"])


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0016_ticket_unlinked_event"),
        ("monitors", "0013_maintenance_window_table"),
    ]

    operations = [migrations.RunPython(titles_readable, migrations.RunPython.noop, elidable=True)]
