"""Give the role groups their permissions on the tickets app: Admins edit ticket routes and read sync jobs; nobody
else reads either (routes hold credentials)."""

from django.db import migrations

from aimsweb.roles import sync_role_groups


def resync_role_groups(apps, schema_editor):
    sync_role_groups(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("aimsweb", "0007_role_groups_insights"),
        ("tickets", "0001_initial"),
    ]

    operations = [migrations.RunPython(resync_role_groups, migrations.RunPython.noop)]
