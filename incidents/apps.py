from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "incidents"
    verbose_name = "Incidents"

    def ready(self) -> None:
        from incidents import receivers, schedules  # noqa: F401  (connects the receivers, declares the schedules)
