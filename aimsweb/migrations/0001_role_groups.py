"""Create the Viewer, Responder and Admin groups with their permissions."""

from django.db import migrations

from aimsweb.roles import Role, sync_role_groups


def create_role_groups(apps, schema_editor):
    sync_role_groups(apps)


def remove_role_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=[role.value for role in Role]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
        ("monitors", "0001_initial"),
        ("incidents", "0001_initial"),
        ("contracts", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_role_groups, remove_role_groups)]
