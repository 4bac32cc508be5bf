"""Admins create, revoke and read API keys in the admin (everyone manages their own on the API keys page)."""

from django.db import migrations

from aimsweb.roles import sync_role_groups


def resync_role_groups(apps, schema_editor):
    sync_role_groups(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("api", "0001_initial"),
        ("aimsweb", "0007_role_groups_insights"),
    ]

    operations = [migrations.RunPython(resync_role_groups, migrations.RunPython.noop)]
