"""A partial covering index of failed runs by start time, for the dashboard."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("monitors", "0003_run_started_index"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="pipelinerun",
            index=models.Index(
                condition=models.Q(("status", "failed")),
                fields=["started_at"],
                include=("pipeline", "id"),
                name="run_failed_started_idx",
            ),
        ),
    ]
