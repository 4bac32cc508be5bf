"""The pipeline-and-start index of runs also carries status and duration (INCLUDE, PostgreSQL only; elsewhere it is
the same index as before), so the pipeline pages count a week of runs from the index alone."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("monitors", "0004_dashboard_indexes"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="pipelinerun",
            name="run_pipeline_started_idx",
        ),
        migrations.AddIndex(
            model_name="pipelinerun",
            index=models.Index(
                fields=["pipeline", "-started_at"], include=("status", "duration_ms"), name="run_pipeline_started_idx"
            ),
        ),
    ]
