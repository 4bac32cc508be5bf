from django.apps import AppConfig


class InsightsConfig(AppConfig):
    name = "insights"
    verbose_name = "Anomalies and health"

    def ready(self) -> None:
        from insights import receivers, schedules  # noqa: F401  (connects the receivers, declares the schedules)
