"""Reads about one run for its page: its analysis and the incidents it counted in."""

from incidents.models import FailureAnalysis, Incident


def run_analysis_get(*, run_id: int) -> FailureAnalysis | None:
    """The run's failure analysis, or None (a run that did not fail, or not analysed yet)."""
    return FailureAnalysis.objects.filter(run_id=run_id).first()


def run_incidents(*, run_id: int) -> list[Incident]:
    """The incidents the run counted in (one, or more after a split), newest first."""
    return list(Incident.objects.filter(occurrences__run_id=run_id).distinct().order_by("-opened_at", "-id"))
