from django.apps import AppConfig


class InsightsConfig(AppConfig):
    name = "insights"
    verbose_name = "Anomalies and health"

    def ready(self) -> None:
        from incidents.services import occurrence_source_register
        from insights import schedules  # noqa: F401  (declares the schedules)

        occurrence_source_register(name="missed_run", label="Missed run")
