from django.apps import AppConfig


class AimswebConfig(AppConfig):
    """The project package as an app: shared base models, roles, health, demo and stack commands."""

    name = "aimsweb"
    verbose_name = "AIMS"
