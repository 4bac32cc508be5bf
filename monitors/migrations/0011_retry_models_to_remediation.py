"""Retry policies and attempts belong to the remediation app now (remediation 0001 takes them over, tables and
all): this app only forgets them."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("monitors", "0010_webhook_source_adf_callback")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="RetryAttempt"),
                migrations.DeleteModel(name="RetryPolicy"),
            ]
        )
    ]
