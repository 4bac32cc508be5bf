"""Give the role groups their permissions on the insights app: everyone reads series and schedules, Responders mark
points as expected or exclude a period, Admins tune how a series is watched."""

from django.db import migrations

from aimsweb.roles import sync_role_groups


def resync_role_groups(apps, schema_editor):
    sync_role_groups(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("aimsweb", "0006_role_groups_contracts"),
        ("insights", "0001_initial"),
    ]

    operations = [migrations.RunPython(resync_role_groups, migrations.RunPython.noop)]
