"""Secrets out of the text stored before redaction reached every write: timeline entries, analyses, incident titles,
notification headlines and errors.

Batched by primary key and idempotent: redact() leaves redacted text as it is, and only rows that change are written.
"""

from django.db import migrations

from incidents.analysis.redact import redact

BATCH = 500
FIELDS = {
    "IncidentEvent": ("message", "details"),
    "FailureAnalysis": ("summary", "root_cause", "recommended_actions", "signature_text"),
    "Incident": ("title",),
    "Notification": ("headline", "last_error"),
}


def _redacted(value):
    """Text redacted; in lists and dicts (recommended actions, event details) every text value."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, list):
        return [_redacted(item) for item in value]
    if isinstance(value, dict):
        return {key: _redacted(item) for key, item in value.items()}
    return value


def redact_stored_text(apps, schema_editor):
    for model_name, fields in FIELDS.items():
        model = apps.get_model("incidents", model_name)
        last_pk = 0
        while batch := list(model.objects.filter(pk__gt=last_pk).order_by("pk").only("pk", *fields)[:BATCH]):
            changed = []
            for row in batch:
                values = {field: _redacted(getattr(row, field)) for field in fields}
                if any(values[field] != getattr(row, field) for field in fields):
                    for field, value in values.items():
                        setattr(row, field, value)
                    changed.append(row)
            model.objects.bulk_update(changed, fields)
            last_pk = batch[-1].pk


class Migration(migrations.Migration):
    dependencies = [("incidents", "0006_incident_fingerprint_index")]

    operations = [migrations.RunPython(redact_stored_text, migrations.RunPython.noop, elidable=True)]
