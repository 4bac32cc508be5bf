"""Secrets out of the error text stored before redaction at ingestion (runs, rerun attempts, monitors' last errors).

Batched by primary key and idempotent: redact() leaves redacted text as it is, and only rows that change are written.
"""

from django.db import migrations

from incidents.analysis.redact import redact

BATCH = 500
FIELDS = {
    "PipelineRun": ("failed_step", "error_code", "error_message", "error_trace"),
    "RetryAttempt": ("error_message",),
    "Monitor": ("last_error",),
}


def redact_stored_errors(apps, schema_editor):
    for model_name, fields in FIELDS.items():
        model = apps.get_model("monitors", model_name)
        last_pk = 0
        while batch := list(model.objects.filter(pk__gt=last_pk).order_by("pk").only("pk", *fields)[:BATCH]):
            changed = []
            for row in batch:
                values = {field: redact(getattr(row, field)) for field in fields}
                if any(values[field] != getattr(row, field) for field in fields):
                    for field, value in values.items():
                        setattr(row, field, value)
                    changed.append(row)
            model.objects.bulk_update(changed, fields)
            last_pk = batch[-1].pk


class Migration(migrations.Migration):
    dependencies = [("monitors", "0007_webhook_delivery_claim")]

    operations = [migrations.RunPython(redact_stored_errors, migrations.RunPython.noop, elidable=True)]
