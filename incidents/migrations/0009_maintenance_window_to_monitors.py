"""Maintenance windows belong to the monitors app now (monitors 0012 takes the table over): this app forgets them."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("incidents", "0008_strip_terminal_escapes")]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[migrations.DeleteModel(name="MaintenanceWindow")])
    ]
