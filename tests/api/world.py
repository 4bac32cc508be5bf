"""A small world for tests that walk every API operation: one of each resource, and the value of each path parameter
the OpenAPI document may name."""

from dataclasses import dataclass

from django.utils import timezone

from contracts.models import CheckRun, Violation
from incidents.models import Incident, TicketLink
from monitors.models import Connection, Monitor, Pipeline, PipelineRun
from tests.contracts.factories import make_contract
from tests.incidents.factories import make_analysis, make_incident
from tests.monitors.factories import make_connection, make_pipeline, make_retry_attempt, make_run


@dataclass
class World:
    connection: Connection
    pipeline: Pipeline
    run: PipelineRun
    incident: Incident
    ticket: TicketLink
    violation: Violation

    def path_value(self, path: str, name: str) -> int:
        """The id a path parameter stands for: `{id}` by the segment before it, `{<thing>_id}` by its name."""
        segments = path.strip("/").split("/")
        thing = name.removesuffix("_id").removesuffix("_pk")
        if name in {"id", "pk"}:
            thing = segments[segments.index("{" + name + "}") - 1]
        ids = {
            "incidents": self.incident.pk,
            "incident": self.incident.pk,
            "pipelines": self.pipeline.pk,
            "pipeline": self.pipeline.pk,
            "runs": self.run.pk,
            "run": self.run.pk,
            "contracts": self.violation.check_run.contract_id,
            "contract": self.violation.check_run.contract_id,
            "connections": self.connection.pk,
            "connection": self.connection.pk,
            "tickets": self.ticket.pk,
            "ticket": self.ticket.pk,
            "link": self.ticket.pk,
            "violations": self.violation.pk,
            "violation": self.violation.pk,
        }
        return ids.get(thing, 1)


def world_seed() -> World:
    connection = make_connection(name="prod-adf")
    Monitor.objects.create(connection=connection, name="all", last_polled_at=timezone.now())
    pipeline = make_pipeline(connection, name="pl_orders_nightly")
    run = make_run(pipeline)
    make_analysis(run)
    make_retry_attempt(run)
    incident = make_incident(run)
    ticket = TicketLink.objects.create(
        incident=incident, system="JIRA", key="OPS-12", url="https://jira.example/OPS-12"
    )
    contract = make_contract()
    check_run = CheckRun.objects.create(
        contract=contract, version=contract.active_version, status=CheckRun.Status.FAILED, started_at=timezone.now()
    )
    violation = Violation.objects.create(
        check_run=check_run, object="orders", rule="orders.amount.range", message="3 rows below 0"
    )
    return World(
        connection=connection, pipeline=pipeline, run=run, incident=incident, ticket=ticket, violation=violation
    )
