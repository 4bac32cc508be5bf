import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from aimsweb.roles import Role


@pytest.mark.django_db
def test_migrations_models_and_migrations_agree():
    # Exits non-zero when a model change has no migration.
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


@pytest.mark.django_db
def test_migrations_all_applied_on_this_database():
    executor = MigrationExecutor(connection)
    assert executor.migration_plan(executor.loader.graph.leaf_nodes()) == []
    assert {"monitors_pipelinerun", "incidents_incident", "contracts_datacontract"} <= set(
        connection.introspection.table_names()
    )


@pytest.mark.django_db
def test_migrations_create_role_groups_with_permissions():
    groups = {group.name: group for group in Group.objects.prefetch_related("permissions__content_type")}
    assert set(groups) >= {role.value for role in Role}

    def perms(role: Role) -> set[str]:
        return {f"{p.content_type.app_label}.{p.codename}" for p in groups[role.value].permissions.all()}

    viewer, responder, admin = perms(Role.VIEWER), perms(Role.RESPONDER), perms(Role.ADMIN)
    assert "incidents.view_incident" in viewer and "remediation.view_retrypolicy" in viewer
    assert not {p for p in viewer if not p.split(".")[1].startswith("view_")}
    assert viewer < responder < admin
    assert {"incidents.acknowledge_incident", "monitors.retry_pipelinerun"} <= responder - viewer
    assert not {p for p in responder if p.split(".")[1].startswith(("add_", "change_", "delete_"))}
    assert {
        "remediation.change_retrypolicy",
        "monitors.change_maintenancewindow",
        "monitors.change_connection",
        "contracts.change_datacontract",
    } <= admin
    assert "auth.change_user" in admin
    assert "monitors.change_pipelinerun" not in admin  # runs are the platform's record, not edited by hand


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_migrations_role_groups_reversible():
    call_command("migrate", "aimsweb", "zero", verbosity=0)
    assert not Group.objects.filter(name__in=[role.value for role in Role]).exists()

    # Everything again: migrations of other apps that sync the role groups depend on aimsweb's, so they went too.
    call_command("migrate", verbosity=0)
    assert Group.objects.filter(name__in=[role.value for role in Role]).count() == 3
    executor = MigrationExecutor(connection)
    assert executor.migration_plan(executor.loader.graph.leaf_nodes()) == []  # nothing left for the next tests
