"""Receivers of the monitors app's own model changes: poll schedules and webhook targets follow the monitors and
connections, however they are edited."""

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from aimsweb.schedules import schedules_sync
from monitors.models import Connection, Monitor
from monitors.selectors import webhook_targets_forget


@receiver([post_save, post_delete], sender=Monitor, dispatch_uid="monitor-schedules")
@receiver([post_save, post_delete], sender=Connection, dispatch_uid="connection-schedules")
def schedules_follow_monitors(sender, **kwargs) -> None:
    transaction.on_commit(schedules_sync)


@receiver([post_save, post_delete], sender=Connection, dispatch_uid="connection-webhook-targets")
def webhook_targets_follow_connections(sender, **kwargs) -> None:
    webhook_targets_forget()
