"""One run's page: monitors' facts about the run, its analysis and incidents (incidents) and its retry attempts
(remediation). Served under monitors' URL names (monitors:run-detail) because it reads the layers above monitors."""

from typing import Any

from incidents.selectors.runs import run_analysis_get, run_incidents
from monitors.models import PipelineRun
from remediation.selectors import run_retry_attempts


def run_detail_page(*, run: PipelineRun) -> dict[str, Any]:
    """The run (loaded with its pipeline and connection), its analysis, the incidents it counted in and the attempts
    to rerun it, in three queries after the run's own."""
    return {
        "run": run,
        "pipeline": run.pipeline,
        "analysis": run_analysis_get(run_id=run.pk),
        "incidents": run_incidents(run_id=run.pk),
        "attempts": run_retry_attempts(run_id=run.pk),
        "platform_url": run.platform_url,
    }
