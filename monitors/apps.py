from django.apps import AppConfig


class MonitorsConfig(AppConfig):
    name = "monitors"
    verbose_name = "Sources and runs"

    def ready(self) -> None:
        from monitors import receivers, schedules  # noqa: F401  (connects the receivers, declares the schedules)
