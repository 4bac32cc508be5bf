"""The demo world `make run` shows: AIMS connections and monitors for the simulator's default scenario, the
contracts of the tables its pipelines load, notification channels, a webhook subscriber and ticket routes, all
pointing at the simulator."""

import secrets
from datetime import UTC, datetime, time
from pathlib import Path

import yaml
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from contracts.models import ContractProducer, DataContract, Warehouse
from contracts.services import contract_save
from incidents.models import EscalationStep, NotificationChannel, NotificationRoute, Runbook
from monitors.models import Connection, Monitor
from oncall.models import ContactMethod, Rotation, RotationMember, Schedule
from simulator.jira_workflows import API_EMAIL as SIM_JIRA_EMAIL
from simulator.jira_workflows import API_TOKEN as SIM_JIRA_TOKEN
from simulator.scenario_warehouse import DEFAULT_SQL_WAREHOUSE
from simulator.scenarios import DEFAULT_SCENARIO
from simulator.snow_schema import API_PASSWORD as SIM_SERVICENOW_PASSWORD
from simulator.snow_schema import API_USER as SIM_SERVICENOW_USER
from tickets.models import TicketRoute, inbound_secret_new
from webhooks.models import Endpoint
from webhooks.services.endpoints import endpoint_create

DEMO_DATABRICKS_CONNECTION = "sim-databricks"
DEMO_WAREHOUSE = "demo-lakehouse"
DEMO_CONTRACTS_DIR = Path(__file__).resolve().parent / "demo_contracts"
# (contract name = its YAML file's stem, owner, minutes between scheduled checks, partition filter). The orders are
# checked after each load on the day it loaded; a scheduled check has no run to take that day from, so none.
DEMO_CONTRACTS = [
    ("sales-orders", "Sales data team", 15, "order_date = :run_date"),  # scheduled checks read the whole table
    ("sales-customers", "CRM team", 5, ""),
    ("finance-invoices", "Finance data team", 5, ""),
]


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
    # (name, kind, inbox name, rate limit: pages per minutes): the simulator keeps what they receive, see /_sim/inbox.
    # The limits are the demo's, sized to its pace (a failure or two a minute): within its first ten minutes a
    # watcher sees pages delivered, the Teams channel's overflow held for a digest and sent in one, and an escalation.
    ("On-call Teams channel", NotificationChannel.Kind.TEAMS, "teams", (6, 5)),
    ("On-call Slack channel", NotificationChannel.Kind.SLACK, "slack", (20, 10)),
    ("Ticketing webhook", NotificationChannel.Kind.WEBHOOK, "webhook", (200, 10)),
    ("Team lead (Slack)", NotificationChannel.Kind.SLACK, "slack-team-lead", (5, 10)),
]
DEMO_ESCALATION_MINUTES = 5
# A channel still at the model's limits was never tuned: the demo's replace them (an Admin's own are kept).
_MODEL_LIMITS = (
    NotificationChannel._meta.get_field("rate_limit_count").default,
    NotificationChannel._meta.get_field("rate_limit_minutes").default,
)


@transaction.atomic
def demo_notifications_ensure(*, simulator_url: str) -> list[str]:
    """Notification channels posting to the simulator's inbox with the demo's rate limits, a route sending every
    incident to the first three, an escalation to the team lead after DEMO_ESCALATION_MINUTES without
    acknowledgement, and runbooks. Returns the names it created."""
    created, channels = [], {}
    for name, kind, inbox, (count, minutes) in DEMO_CHANNELS:
        channel = NotificationChannel.objects.filter(name=name).first()
        if channel is None:
            channel = NotificationChannel(name=name, kind=kind)
            created.append(name)
        if channel.pk is None or (channel.rate_limit_count, channel.rate_limit_minutes) == _MODEL_LIMITS:
            channel.rate_limit_count, channel.rate_limit_minutes = count, minutes
        channel.set_url(f"{simulator_url}/_sim/inbox/{inbox}")
        if kind == NotificationChannel.Kind.WEBHOOK and not channel.signing_secret_encrypted:
            channel.set_signing_secret(secrets.token_urlsafe(32))
        channel.save()
        channels[name] = channel
    route, was_created = NotificationRoute.objects.get_or_create(name="Every incident")
    if was_created:
        route.channels.set([channels[name] for name, _, inbox, _ in DEMO_CHANNELS if inbox != "slack-team-lead"])
        step = EscalationStep.objects.create(route=route, after_minutes=DEMO_ESCALATION_MINUTES)
        step.channels.set([channels["Team lead (Slack)"]])
        created.append(route.name)
    for title, url, fields in DEMO_RUNBOOKS:
        _, was_created = Runbook.objects.get_or_create(title=title, defaults={"url": url, **fields})
        if was_created:
            created.append(title)
    return created


# Runbooks the demo's incidents show (the pages and every notification sent): public troubleshooting guides.
DEMO_RUNBOOKS = [
    (
        "ADF: troubleshoot pipeline failures",
        "https://learn.microsoft.com/en-us/azure/data-factory/data-factory-troubleshoot-guide",
        {"pipeline_pattern": "*", "category": ""},
    ),
    (
        "ADF: connector and copy activity errors",
        "https://learn.microsoft.com/en-us/azure/data-factory/connector-troubleshoot-guide",
        {"pipeline_pattern": "", "category": "configuration"},
    ),
    (
        "Databricks: repair a failed job run",
        "https://learn.microsoft.com/en-us/azure/databricks/jobs/repair-job-failures",
        {"pipeline_pattern": "", "category": "transient"},
    ),
]


def _loader_producer(table: str) -> tuple[str, str]:
    """(connection name, pipeline or job name) of the simulator's loader of `table`."""
    for load in DEFAULT_SCENARIO["warehouse_loads"]:
        if load["table"] == table:
            if load.get("adf"):
                return load["factory"], load["adf"]
            return DEMO_DATABRICKS_CONNECTION, load["databricks"]
    raise LookupError(f"the default scenario loads no table {table}")


@transaction.atomic
def demo_contracts_ensure() -> list[str]:
    """The demo lakehouse (the simulator's SQL warehouse, reached through the demo Databricks connection) and a
    published contract per demo table, naming the pipeline or job that loads it. A contract that exists is left as
    it is (an admin may have edited it). Call after simulator_connections_ensure; returns the names it created."""
    workspace = DEFAULT_SCENARIO["workspaces"][0]
    warehouse_id = (workspace.get("sql_warehouses") or [DEFAULT_SQL_WAREHOUSE])[0]["id"]
    warehouse, was_created = Warehouse.objects.get_or_create(
        name=DEMO_WAREHOUSE,
        defaults={
            "engine": Warehouse.Engine.DATABRICKS_SQL,
            "connection": Connection.objects.get(name=DEMO_DATABRICKS_CONNECTION),
            "warehouse_id": warehouse_id,
        },
    )
    created = [DEMO_WAREHOUSE] if was_created else []
    for name, owner, minutes, partition in DEMO_CONTRACTS:
        if DataContract.objects.filter(name=name).exists():
            continue
        yaml_text = (DEMO_CONTRACTS_DIR / f"{name}.yaml").read_text(encoding="utf-8")
        spec = yaml.safe_load(yaml_text)
        contract = contract_save(
            contract=DataContract(
                name=name,
                owner=owner,
                description=spec["description"]["purpose"],
                yaml_text=yaml_text,
                warehouse=warehouse,
                check_every_minutes=minutes,
                partition_filter=partition,
            ),
            note="Demo contract",
        )
        connection_name, pipeline = _loader_producer(spec["schema"][0]["physicalName"])
        ContractProducer.objects.create(
            contract=contract, connection=Connection.objects.get(name=connection_name), pipeline_pattern=pipeline
        )
        created.append(name)
    return created


DEMO_SUBSCRIBER = "Demo subscriber"
# (route name, system, severities it opens tickets for): the simulated Jira takes high and critical incidents, the
# simulated ServiceNow critical ones.
DEMO_TICKET_ROUTES = [
    ("demo-jira-ops", TicketRoute.System.JIRA, "high"),
    ("demo-servicenow", TicketRoute.System.SERVICENOW, "critical"),
]


def demo_integrations_ensure(*, simulator_url: str) -> list[str]:
    """A webhook subscriber posting to the simulator's inbox (`subscriber`), and ticket routes opening issues in the
    simulated Jira (project OPS) and incidents in the simulated ServiceNow. Existing ones are left as they are (an
    Admin may have edited them). Returns the names it created."""
    created = []
    if not Endpoint.objects.filter(name=DEMO_SUBSCRIBER).exists():
        endpoint_create(
            name=DEMO_SUBSCRIBER,
            url=f"{simulator_url}/_sim/inbox/subscriber",
            description="The demo's outbound webhook subscriber: what it receives is at /_sim/inbox.",
        )
        created.append(DEMO_SUBSCRIBER)
    for name, system, severity in DEMO_TICKET_ROUTES:
        if TicketRoute.objects.filter(name=name).exists():
            continue
        jira = system == TicketRoute.System.JIRA
        route = TicketRoute(
            name=name,
            system=system,
            base_url=simulator_url,
            is_simulator=True,
            username=SIM_JIRA_EMAIL if jira else SIM_SERVICENOW_USER,
            min_severity=severity,
            jira_project="OPS" if jira else "",
        )
        route.set_secret(SIM_JIRA_TOKEN if jira else SIM_SERVICENOW_PASSWORD)
        route.set_inbound_secret(inbound_secret_new())
        route.full_clean()
        route.save()
        created.append(name)
    return created


DEMO_SCHEDULE = "Primary"
# (demo username, Slack member id, Teams user): mentioned in the demo's Slack and Teams channels, whose messages the
# simulator keeps at /_sim/inbox; e-mail goes to Django's mail backend (the console, by default).
DEMO_ON_CALL = [("responder", "U0DEMORESP", "responder@aims.demo"), ("admin", "U0DEMOADMN", "admin@aims.demo")]


@transaction.atomic
def demo_oncall_ensure() -> list[str]:
    """A "Primary" schedule rotating the demo responder and admin daily at 09:00 UTC, their contact methods, and the
    demo route's escalation step targeting the schedule's on-call. Call after the demo users and demo_notifications_
    ensure; existing rows are left as they are (an Admin may have edited them). Returns the names it created."""
    created = []
    users = {
        user.username: user for user in get_user_model().objects.filter(username__in=[n for n, _, _ in DEMO_ON_CALL])
    }
    schedule, was_created = Schedule.objects.get_or_create(
        name=DEMO_SCHEDULE,
        defaults={"time_zone": "UTC", "description": "The demo's on-call: the responder and the admin, a day each."},
    )
    if was_created:
        rotation = Rotation.objects.create(
            schedule=schedule,
            name="Demo responders",
            length=Rotation.Length.DAILY,
            handoff_time=time(9),
            starts_at=datetime.combine(datetime.now(UTC).date(), time(), tzinfo=UTC),
        )
        for position, (username, _, _) in enumerate(DEMO_ON_CALL):
            if username in users:
                RotationMember.objects.create(rotation=rotation, user=users[username], position=position)
        created.append(schedule.name)
    for username, slack_id, teams_upn in DEMO_ON_CALL:
        if username in users:
            ContactMethod.objects.get_or_create(
                user=users[username],
                defaults={"email": f"{username}@localhost", "slack_member_id": slack_id, "teams_upn": teams_upn},
            )
    step = EscalationStep.objects.filter(route__name="Every incident", oncall_schedule__isnull=True).first()
    if step is not None and was_created:
        step.oncall_schedule = schedule
        step.save(update_fields=["oncall_schedule", "updated_at"])
    return created
