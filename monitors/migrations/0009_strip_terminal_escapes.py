"""Terminal escape codes out of the platform text stored before they were stripped at ingestion (run errors, traces,
failed steps, and the failure detail the platform returned).

Batched by primary key and idempotent: only rows that change are written.
"""

from django.db import migrations

from aimsweb.stored_rows import stored_rows_rewrite
from aimsweb.terminal import strip_terminal_escapes_values

FIELDS = ("failed_step", "error_code", "error_message", "error_trace", "failure_detail")


def strip_stored_escapes(apps, schema_editor):
    stored_rows_rewrite(apps.get_model("monitors", "PipelineRun"), FIELDS, strip_terminal_escapes_values)


class Migration(migrations.Migration):
    dependencies = [("monitors", "0008_redact_stored_errors")]

    operations = [migrations.RunPython(strip_stored_escapes, migrations.RunPython.noop, elidable=True)]
