from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("contracts", "0002_odcs_v3"),
    ]

    operations = [
        migrations.AddField(
            model_name="contractversion",
            name="changes",
            field=models.JSONField(
                blank=True,
                default=list,
                help_text="Changes against the version this one replaced (path, kind, level).",
            ),
        ),
        migrations.AddField(
            model_name="contractversion",
            name="breaking",
            field=models.BooleanField(default=False, help_text="At least one change breaks the contract's consumers."),
        ),
        migrations.AddField(
            model_name="contractversion",
            name="publish_note",
            field=models.TextField(blank=True, help_text="Why it was published (required for a breaking version)."),
        ),
    ]
