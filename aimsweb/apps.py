from django.apps import AppConfig


class AimswebConfig(AppConfig):
    """The project package as an app: shared base models, roles, health, demo and stack commands."""

    name = "aimsweb"
    verbose_name = "AIMS"

    def ready(self) -> None:
        from django.db.models.signals import pre_save
        from django_q.models import Schedule
        from django_q.signals import pre_enqueue

        from aimsweb.db import fork_safety_install
        from aimsweb.live_access import live_access_receivers_connect
        from aimsweb.schedules import schedule_refuse_unsafe, task_refuse_unlisted

        fork_safety_install()
        # Nothing may schedule or queue a function that is not an AIMS task (see aimsweb.schedules).
        pre_save.connect(schedule_refuse_unsafe, sender=Schedule, dispatch_uid="aimsweb.schedule_refuse_unsafe")
        pre_enqueue.connect(task_refuse_unlisted, dispatch_uid="aimsweb.task_refuse_unlisted")
        live_access_receivers_connect()
