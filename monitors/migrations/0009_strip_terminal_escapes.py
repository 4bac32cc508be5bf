"""Terminal escape codes out of the platform text stored before they were stripped at ingestion (run errors, traces,
failed steps, and the failure detail the platform returned).

Batched by primary key and idempotent: only rows that change are written.
"""

from django.db import migrations

from aimsweb.terminal import strip_terminal_escapes_values

FIELDS = ("failed_step", "error_code", "error_message", "error_trace", "failure_detail")
BATCH = 500


def strip_stored_escapes(apps, schema_editor):
    PipelineRun = apps.get_model("monitors", "PipelineRun")
    last_pk = 0
    while rows := list(PipelineRun.objects.filter(pk__gt=last_pk).order_by("pk").only("pk", *FIELDS)[:BATCH]):
        changed = []
        for row in rows:
            values = {field: strip_terminal_escapes_values(getattr(row, field)) for field in FIELDS}
            if any(values[field] != getattr(row, field) for field in FIELDS):
                for field, value in values.items():
                    setattr(row, field, value)
                changed.append(row)
        PipelineRun.objects.bulk_update(changed, FIELDS)
        last_pk = rows[-1].pk


class Migration(migrations.Migration):
    dependencies = [("monitors", "0008_redact_stored_errors")]

    operations = [migrations.RunPython(strip_stored_escapes, migrations.RunPython.noop, elidable=True)]
