"""Indexes for the dashboard's window reads (see the models' Meta.indexes for what each serves)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0004_incident_open_recent_idx"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="failureanalysis",
            index=models.Index(
                condition=models.Q(("analyzer", "llm")),
                fields=["created_at"],
                include=("cost_usd", "cache_hit"),
                name="analysis_llm_created_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="failureanalysis",
            index=models.Index(fields=["created_at"], include=("run", "category"), name="analysis_recent_class_idx"),
        ),
        migrations.AddIndex(
            model_name="incident",
            index=models.Index(fields=["opened_at"], name="incident_opened_idx"),
        ),
        migrations.AddIndex(
            model_name="incident",
            index=models.Index(
                condition=models.Q(("acknowledged_at__isnull", False)),
                fields=["acknowledged_at"],
                include=("opened_at",),
                name="incident_acked_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="incident",
            index=models.Index(
                condition=models.Q(("resolved_at__isnull", False)),
                fields=["resolved_at"],
                include=("opened_at", "id"),
                name="incident_resolved_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="incident",
            index=models.Index(
                condition=models.Q(("status", "resolved"), _negated=True),
                fields=["severity", "opened_at"],
                name="incident_open_age_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="incidentevent",
            index=models.Index(
                condition=models.Q(("kind", "auto_resolved")),
                fields=["created_at"],
                include=("incident",),
                name="event_auto_resolved_time_idx",
            ),
        ),
    ]
