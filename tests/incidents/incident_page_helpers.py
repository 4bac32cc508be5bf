"""What the incident page's tests share: an incident as triage leaves it, the page's and its actions' addresses, and
the kinds of its timeline."""

from incidents.models import FailureAnalysis, Incident
from tests.incidents.factories import make_analysis, make_incident
from tests.monitors.factories import make_run

ACTIONS = ["acknowledge", "resolve", "reopen", "assign", "comment", "silence", "unsilence", "ticket"]


def make_failed_incident(**fields) -> Incident:
    """An incident opened by one failed run, with its analysis counted in it (as triage leaves them)."""
    run = make_run(
        error_message="Copy sales failed: source timed out\nat ODBC driver line 2",
        error_trace="Traceback (most recent call last):\n  File odbc.py, line 42, in connect",
    )
    analysis = make_analysis(
        run,
        analyzer=FailureAnalysis.Analyzer.LLM,
        model="gpt-test-mini",
        summary="The nightly source database timed out.",
        root_cause="The source server was restarted during the copy.",
        recommended_actions=["Check the source server's restart schedule", "Rerun from the failed activity"],
        learned="3 of 4 retries of this signature succeeded.",
        fallback_reason="",
        cache_hit=True,
    )
    incident = make_incident(run, analysis=analysis, **fields)
    FailureAnalysis.objects.filter(pk=analysis.pk).update(incident=incident)
    return incident


def url(incident: Incident, action: str = "") -> str:
    return f"/incidents/{incident.pk}/" + (f"{action}/" if action else "")


def events(incident: Incident) -> list[str]:
    return list(incident.events.order_by("created_at", "id").values_list("kind", flat=True))
