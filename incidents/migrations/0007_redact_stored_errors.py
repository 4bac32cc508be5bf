"""Secrets out of the text stored before redaction reached every write: timeline entries, analyses, incident titles,
notification headlines and errors.

Batched by primary key and idempotent: redact() leaves redacted text as it is, and only rows that change are written.
"""

from django.db import migrations

from aimsweb.redact import stored_rows_redact

FIELDS = {
    "IncidentEvent": ("message", "details"),
    "FailureAnalysis": ("summary", "root_cause", "recommended_actions", "signature_text"),
    "Incident": ("title",),
    "Notification": ("headline", "last_error"),
}


def redact_stored_text(apps, schema_editor):
    for model_name, fields in FIELDS.items():
        stored_rows_redact(apps.get_model("incidents", model_name), fields)


class Migration(migrations.Migration):
    dependencies = [("incidents", "0006_incident_fingerprint_index")]

    operations = [migrations.RunPython(redact_stored_text, migrations.RunPython.noop, elidable=True)]
