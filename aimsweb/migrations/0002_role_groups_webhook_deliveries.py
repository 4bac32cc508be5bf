"""Give the role groups their permissions on webhook deliveries."""

from django.db import migrations

from aimsweb.roles import sync_role_groups


def resync_role_groups(apps, schema_editor):
    sync_role_groups(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("aimsweb", "0001_role_groups"),
        ("monitors", "0002_sources_webhooks"),
    ]

    operations = [migrations.RunPython(resync_role_groups, migrations.RunPython.noop)]
