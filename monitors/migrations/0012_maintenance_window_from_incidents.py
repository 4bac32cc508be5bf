"""Maintenance windows move from incidents to this app (the sources layer: the rerun engine below incidents reads
them too). The table is renamed in 0013; here only Django's record of its app changes, with its content type."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def content_type_move(apps, schema_editor):
    content_type = apps.get_model("contenttypes", "ContentType")
    content_type.objects.filter(app_label="incidents", model="maintenancewindow").exclude(
        model__in=content_type.objects.filter(app_label="monitors").values("model")
    ).update(app_label="monitors")


def content_type_back(apps, schema_editor):
    content_type = apps.get_model("contenttypes", "ContentType")
    content_type.objects.filter(app_label="monitors", model="maintenancewindow").update(app_label="incidents")


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("monitors", "0011_retry_models_to_remediation"),
        ("incidents", "0009_maintenance_window_to_monitors"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="MaintenanceWindow",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("created_at", models.DateTimeField(auto_now_add=True, db_index=True)),
                        ("updated_at", models.DateTimeField(auto_now=True)),
                        ("name", models.CharField(max_length=100)),
                        (
                            "pipeline_pattern",
                            models.CharField(
                                default="*",
                                help_text="Glob on pipeline or job names, e.g. sales_* (* = all).",
                                max_length=260,
                            ),
                        ),
                        ("starts_at", models.DateTimeField()),
                        ("ends_at", models.DateTimeField()),
                        ("suppress_notifications", models.BooleanField(default=True)),
                        ("suppress_retries", models.BooleanField(default=True)),
                        ("reason", models.TextField(blank=True)),
                        (
                            "connection",
                            models.ForeignKey(
                                blank=True,
                                help_text="Blank: every connection.",
                                null=True,
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="maintenance_windows",
                                to="monitors.connection",
                            ),
                        ),
                        (
                            "created_by",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "incidents_maintenancewindow",
                        "ordering": ["-starts_at"],
                        "indexes": [models.Index(fields=["ends_at", "starts_at"], name="window_active_idx")],
                    },
                ),
            ]
        ),
        migrations.RunPython(content_type_move, content_type_back),
    ]
