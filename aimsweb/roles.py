"""Roles are Django groups with permissions: Viewer reads, Responder also acts on incidents, Admin also configures.

The groups are created by a data migration that calls `sync_role_groups`; a later migration that adds permissions
calls it again. Pages, API and consumers check permissions (`user.has_perm`), never group names.
"""

from enum import StrEnum

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.db.models import Q


class Role(StrEnum):
    VIEWER = "Viewer"
    RESPONDER = "Responder"
    ADMIN = "Admin"


DOMAIN_APPS = ("monitors", "remediation", "oncall", "incidents", "contracts", "insights")

RESPONDER_ACTIONS = (
    "incidents.acknowledge_incident",
    "incidents.resolve_incident",
    "incidents.assign_incident",
    "incidents.comment_incident",
    "incidents.silence_incident",
    "incidents.link_ticket_incident",
    "monitors.retry_pipelinerun",
    "contracts.check_datacontract",
    "insights.annotate_series",
)

# What an Admin edits in the admin; everything else the system writes, and people only read.
ADMIN_EDITS = {
    "monitors": ("connection", "monitor", "pipeline", "maintenancewindow"),
    "remediation": ("retrypolicy",),
    "oncall": ("schedule", "rotation", "rotationmember", "override", "contactmethod"),
    "incidents": ("notificationchannel", "notificationroute", "escalationstep", "runbook"),
    "contracts": ("datacontract", "contractproducer", "warehouse"),
    "insights": ("series",),
    "api": ("apikey",),
    "webhooks": ("endpoint",),
    "tickets": ("ticketroute",),
    "auth": ("user",),
}
ADMIN_READS = {
    "auth": ("group",),
    "django_q": ("task", "success", "failure", "schedule", "ormq"),
    "webhooks": ("message", "attempt"),
    "tickets": ("ticketsyncjob",),
}


def _permission_filter(role: Role) -> Q:
    reads = Q(content_type__app_label__in=DOMAIN_APPS, codename__startswith="view_")
    if role == Role.VIEWER:
        return reads
    actions = Q()
    for perm in RESPONDER_ACTIONS:
        app_label, codename = perm.split(".")
        actions |= Q(content_type__app_label=app_label, codename=codename)
    if role == Role.RESPONDER:
        return reads | actions
    edits = Q()
    for app_label, models in ADMIN_EDITS.items():
        for model in models:
            codenames = [f"{verb}_{model}" for verb in ("add", "change", "delete", "view")]
            edits |= Q(content_type__app_label=app_label, codename__in=codenames)
    for app_label, models in ADMIN_READS.items():
        edits |= Q(content_type__app_label=app_label, codename__in=[f"view_{model}" for model in models])
    return reads | actions | edits


def sync_role_groups(apps=global_apps) -> None:
    """Create the three role groups and give each exactly the permissions its role defines."""
    for app_config in apps.get_app_configs():
        # Permissions are normally created after all migrations; create them now so they can be assigned.
        original = getattr(app_config, "models_module", None)
        app_config.models_module = original or True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = original
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    for role in Role:
        group, _ = group_model.objects.get_or_create(name=role.value)
        group.permissions.set(permission_model.objects.filter(_permission_filter(role)))


def user_role(user) -> Role | None:
    """The highest role a user holds (superusers count as Admin), or None for a user without one."""
    if not user.is_authenticated:
        return None
    if user.is_superuser:
        return Role.ADMIN
    names = {group.name for group in user.groups.all()}
    return next((role for role in (Role.ADMIN, Role.RESPONDER, Role.VIEWER) if role.value in names), None)
