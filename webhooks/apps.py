from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = "Outbound webhooks"

    def ready(self) -> None:
        from webhooks import receivers, schedules  # noqa: F401  (connects the receivers, declares the schedules)
