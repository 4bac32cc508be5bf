"""The demo world `make run` shows: AIMS connections and monitors for the simulator's default scenario."""

import secrets
from pathlib import Path

from django.conf import settings
from django.db import transaction

from incidents.models import EscalationStep, NotificationChannel, NotificationRoute
from monitors.models import Connection, Monitor
from simulator.scenarios import DEFAULT_SCENARIO

DEMO_DATABRICKS_CONNECTION = "sim-databricks"


def demo_webhook_secret_path() -> Path:
    return Path(settings.VAR_DIR) / "demo-webhook-secret"


def _demo_webhook_secret() -> str:
    """A random secret shared with the local simulator through a private file under var/, made once."""
    path = demo_webhook_secret_path()
    if not path.exists():
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(24))
    return path.read_text().strip()


@transaction.atomic
def simulator_connections_ensure(*, simulator_url: str) -> list[str]:
    """Create (or point at `simulator_url` again) one connection and monitor per simulated factory and workspace,
    each with the demo webhook secret. Returns the names of the connections it created."""
    secret = _demo_webhook_secret()
    wanted = [
        (
            factory["factory_name"],
            {
                "kind": Connection.Kind.ADF,
                "auth_method": Connection.AuthMethod.STATIC_TOKEN,
                "subscription_id": factory["subscription_id"],
                "resource_group": factory["resource_group"],
                "factory_name": factory["factory_name"],
            },
            "",
        )
        for factory in DEFAULT_SCENARIO["factories"]
    ]
    wanted.append(
        (
            DEMO_DATABRICKS_CONNECTION,
            {"kind": Connection.Kind.DATABRICKS, "auth_method": Connection.AuthMethod.PAT},
            DEFAULT_SCENARIO["workspaces"][0]["token"],
        )
    )
    created = []
    for name, fields, token in wanted:
        connection, was_created = Connection.objects.update_or_create(
            name=name, defaults={**fields, "is_simulator": True, "host": simulator_url}
        )
        if was_created or not connection.webhook_secret_encrypted:
            connection.set_webhook_secret(secret)
            connection.set_secret(token)
            connection.save(update_fields=["webhook_secret_encrypted", "secret_encrypted", "updated_at"])
            created.append(name)
        Monitor.objects.get_or_create(connection=connection, name="all pipelines")
    return created


DEMO_CHANNELS = [
    # (name, kind, inbox name): the simulator keeps what they receive, see /_sim/inbox.
    ("On-call Teams channel", NotificationChannel.Kind.TEAMS, "teams"),
    ("On-call Slack channel", NotificationChannel.Kind.SLACK, "slack"),
    ("Ticketing webhook", NotificationChannel.Kind.WEBHOOK, "webhook"),
    ("Team lead (Slack)", NotificationChannel.Kind.SLACK, "slack-team-lead"),
]


@transaction.atomic
def demo_notifications_ensure(*, simulator_url: str) -> list[str]:
    """Notification channels posting to the simulator's inbox, a route sending every incident to the first three and
    an escalation to the team lead after 15 minutes without acknowledgement. Returns the names it created."""
    created, channels = [], {}
    for name, kind, inbox in DEMO_CHANNELS:
        channel = NotificationChannel.objects.filter(name=name).first()
        if channel is None:
            channel = NotificationChannel(name=name, kind=kind)
            created.append(name)
        channel.set_url(f"{simulator_url}/_sim/inbox/{inbox}")
        if kind == NotificationChannel.Kind.WEBHOOK and not channel.signing_secret_encrypted:
            channel.set_signing_secret(secrets.token_urlsafe(32))
        channel.save()
        channels[name] = channel
    route, was_created = NotificationRoute.objects.get_or_create(name="Every incident")
    if was_created:
        route.channels.set([channels[name] for name, _, inbox in DEMO_CHANNELS if inbox != "slack-team-lead"])
        step = EscalationStep.objects.create(route=route, after_minutes=15)
        step.channels.set([channels["Team lead (Slack)"]])
        created.append(route.name)
    return created
