from django.apps import AppConfig


class ContractsConfig(AppConfig):
    name = "contracts"
    verbose_name = "Data contracts"

    def ready(self) -> None:
        from contracts import receivers, schedules  # noqa: F401  (connects the receivers, declares the schedules)
