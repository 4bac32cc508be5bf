"""The tables take this app's names; each attempt keeps the advice it was made on (the engine no longer reads the
analysis) and whether its outcome was taken in (filled in by incidents 0010)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("remediation", "0001_initial")]

    operations = [
        migrations.AlterModelTable(name="retrypolicy", table=None),
        migrations.AlterModelTable(name="retryattempt", table=None),
        migrations.AddField(
            model_name="retryattempt",
            name="category",
            field=models.CharField(
                choices=[
                    ("transient", "Transient"),
                    ("resource", "Resource"),
                    ("configuration", "Configuration"),
                    ("permission", "Permission"),
                    ("data_quality", "Data quality"),
                    ("code", "Code"),
                    ("unknown", "Unknown"),
                ],
                default="unknown",
                max_length=20,
            ),
        ),
        migrations.AddField(
            model_name="retryattempt",
            name="advised_delay_minutes",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="retryattempt",
            name="outcome_announced_at",
            field=models.DateTimeField(
                blank=True,
                help_text="When the layers above took the outcome in (until then it is announced again).",
                null=True,
            ),
        ),
    ]
