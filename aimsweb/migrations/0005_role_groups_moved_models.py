"""Give the role groups their permissions on the models that moved: retry policies (remediation) and maintenance
windows (monitors), and on occurrences."""

from django.db import migrations

from aimsweb.roles import sync_role_groups


def resync_role_groups(apps, schema_editor):
    sync_role_groups(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("aimsweb", "0004_role_groups_notifications"),
        ("incidents", "0012_occurrences_of_counted_runs"),
        ("monitors", "0013_maintenance_window_table"),
        ("remediation", "0002_tables_and_advice"),
    ]

    operations = [migrations.RunPython(resync_role_groups, migrations.RunPython.noop)]
