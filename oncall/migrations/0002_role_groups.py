"""Give the roles their permissions on schedules: every role reads them, the Admin role edits them."""

from django.db import migrations

from aimsweb.roles import sync_role_groups


def resync_role_groups(apps, schema_editor):
    sync_role_groups(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("aimsweb", "0007_role_groups_insights"),
        ("oncall", "0001_initial"),
    ]

    operations = [migrations.RunPython(resync_role_groups, migrations.RunPython.noop)]
