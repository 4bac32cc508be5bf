"""Give the role groups their permissions on signature statistics."""

from django.db import migrations

from aimsweb.roles import sync_role_groups


def resync_role_groups(apps, schema_editor):
    sync_role_groups(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("aimsweb", "0002_role_groups_webhook_deliveries"),
        ("incidents", "0002_signature_stats"),
    ]

    operations = [migrations.RunPython(resync_role_groups, migrations.RunPython.noop)]
