from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "incidents"
    verbose_name = "Incidents"

    def ready(self) -> None:
        from incidents import receivers, schedules  # noqa: F401  (connects the receivers, declares the schedules)
        from incidents.pages.retries import retry_badges_of_runs
        from monitors.run_rows import run_rows_hook_register

        run_rows_hook_register(retry_badges_of_runs)  # the runs page shows each run's pending retry
