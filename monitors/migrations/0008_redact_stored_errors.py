"""Secrets out of the error text stored before redaction at ingestion (runs, rerun attempts, monitors' last errors).

Batched by primary key and idempotent: redact() leaves redacted text as it is, and only rows that change are written.
"""

from django.db import migrations

from aimsweb.redact import stored_rows_redact

FIELDS = {
    "PipelineRun": ("failed_step", "error_code", "error_message", "error_trace"),
    "RetryAttempt": ("error_message",),
    "Monitor": ("last_error",),
}


def redact_stored_errors(apps, schema_editor):
    for model_name, fields in FIELDS.items():
        stored_rows_redact(apps.get_model("monitors", model_name), fields)


class Migration(migrations.Migration):
    dependencies = [("monitors", "0007_webhook_delivery_claim")]

    operations = [migrations.RunPython(redact_stored_errors, migrations.RunPython.noop, elidable=True)]
