from django.apps import AppConfig


class AimswebConfig(AppConfig):
    """The project package as an app: shared base models, roles, health, demo and stack commands."""

    name = "aimsweb"
    verbose_name = "AIMS"

    def ready(self) -> None:
        from aimsweb.db import fork_safety_install

        fork_safety_install()
