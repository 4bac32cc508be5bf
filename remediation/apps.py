from django.apps import AppConfig


class RemediationConfig(AppConfig):
    name = "remediation"
    verbose_name = "Remediation"

    def ready(self) -> None:
        from remediation import schedules  # noqa: F401  (declares the app's periodic tasks)
