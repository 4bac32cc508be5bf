"""Give the role groups their permissions on warehouses and contract producers (Admins edit them) and the
Responder's "check a contract now"."""

from django.db import migrations

from aimsweb.roles import sync_role_groups


def resync_role_groups(apps, schema_editor):
    sync_role_groups(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("aimsweb", "0005_role_groups_moved_models"),
        ("contracts", "0006_check_permission"),
        ("incidents", "0014_route_sources_and_subjects"),
    ]

    operations = [migrations.RunPython(resync_role_groups, migrations.RunPython.noop)]
