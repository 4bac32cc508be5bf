"""The pages the UI benchmark times (bench/ui_pages.py) run a number of SQL queries that does not grow with the data:
the dashboard and the incident list, as a Viewer, run as many queries over 3 incidents and 20 runs as over 60
incidents and 600 runs spread across pipelines, connections, statuses, severities and error classes."""

from datetime import timedelta
from decimal import Decimal
from itertools import cycle

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from aimsweb.choices import ErrorCategory, Severity
from incidents.models import FailureAnalysis, Incident, IncidentEvent
from monitors.models import Connection, PipelineRun
from tests.incidents.factories import make_analysis, make_incident
from tests.monitors.factories import make_connection, make_pipeline, make_run

PAGES = ("/", "/incidents/")
STATUSES = (
    Incident.Status.TRIGGERED,
    Incident.Status.ACKNOWLEDGED,
    Incident.Status.RESOLVED,
    Incident.Status.SILENCED,
)


class Data:
    """Runs, analyses and incidents added in steps, varied the way the pages group and filter them."""

    def __init__(self, assignee) -> None:
        self.now = timezone.now()
        self.assignee = assignee
        connections = [make_connection(), make_connection(kind=Connection.Kind.DATABRICKS, auth_method="pat")]
        self.pipelines = [make_pipeline(connections[n % 2]) for n in range(6)]
        self.categories = cycle(ErrorCategory.values)
        self.severities = cycle(Severity.values)
        self.statuses = cycle(STATUSES)
        self.runs = self.incidents = 0
        self.failures: list[PipelineRun] = []

    def add_runs(self, count: int) -> None:
        """Runs over the last eight days (both dashboard windows and before), a third failed and analysed."""
        for _ in range(count):
            number = self.runs = self.runs + 1
            started = self.now - timedelta(hours=number % 200, minutes=number % 60)
            failed = number % 3 == 0
            run = make_run(
                self.pipelines[number % len(self.pipelines)],
                status=PipelineRun.Status.FAILED if failed else PipelineRun.Status.SUCCEEDED,
                started_at=started,
                ended_at=started + timedelta(minutes=5),
            )
            if failed:
                llm = number % 2 == 0
                make_analysis(
                    run,
                    category=next(self.categories),
                    analyzer=FailureAnalysis.Analyzer.LLM if llm else FailureAnalysis.Analyzer.OFFLINE,
                    cost_usd=Decimal("0.0125") if llm else Decimal(0),
                )
                self.failures.append(run)

    def add_incidents(self, count: int) -> None:
        """Incidents on failed runs, in every status and severity, some assigned, acknowledged and resolved."""
        for _ in range(count):
            number = self.incidents = self.incidents + 1
            run = self.failures[number % len(self.failures)]
            status = next(self.statuses)
            opened = self.now - timedelta(hours=number % 100)
            incident = make_incident(
                run=run,
                status=status,
                severity=next(self.severities),
                category=run.analysis.category,
                analysis=run.analysis,
                assignee=self.assignee if number % 4 == 0 else None,
                opened_at=opened,
                first_seen_at=opened,
                last_seen_at=opened + timedelta(minutes=30),
                acknowledged_at=opened + timedelta(minutes=10) if status != Incident.Status.TRIGGERED else None,
                resolved_at=opened + timedelta(hours=1) if status == Incident.Status.RESOLVED else None,
                silenced_until=self.now + timedelta(hours=1) if status == Incident.Status.SILENCED else None,
            )
            if status == Incident.Status.RESOLVED:
                kind = IncidentEvent.Kind.AUTO_RESOLVED if number % 2 else IncidentEvent.Kind.RESOLVED
                IncidentEvent.objects.create(incident=incident, kind=kind, note="Resolved.")


def _queries(client, path: str) -> list[str]:
    client.get(path)  # first use of caches (content types, permissions) out of the count
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200, path
    return [query["sql"] for query in captured.captured_queries]


@pytest.mark.django_db
@pytest.mark.parametrize("path", PAGES)
def test_page_queries_do_not_grow_with_the_data(path, viewer_client, responder):
    data = Data(assignee=responder)
    data.add_runs(20)
    data.add_incidents(3)
    small = _queries(viewer_client, path)

    data.add_runs(580)
    data.add_incidents(57)
    assert (PipelineRun.objects.count(), Incident.objects.count()) == (600, 60)
    large = _queries(viewer_client, path)

    assert len(large) == len(small), "\n".join(["small:", *small, "large:", *large])
