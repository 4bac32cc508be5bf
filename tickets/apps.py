from django.apps import AppConfig


class TicketsConfig(AppConfig):
    name = "tickets"
    verbose_name = "Ticket sync (Jira, ServiceNow)"

    def ready(self) -> None:
        from tickets import receivers, schedules  # noqa: F401  (connects the receivers, declares the schedules)
