"""Give the role groups their permissions on notification channels, routes, escalation and maintenance windows."""

from django.db import migrations

from aimsweb.roles import sync_role_groups


def resync_role_groups(apps, schema_editor):
    sync_role_groups(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("aimsweb", "0003_role_groups_signature_stats"),
        ("incidents", "0003_incidents_notifications"),
    ]

    operations = [migrations.RunPython(resync_role_groups, migrations.RunPython.noop)]
