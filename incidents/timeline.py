"""Words of the incident timeline that several entries share."""

from datetime import timedelta

from monitors.models import Connection, PipelineRun, RerunMode

RERUN_WORDS: dict[tuple[str, str], str] = {
    (Connection.Kind.ADF, RerunMode.RECOVER): "ADF recovery run from the failed activity",
    (Connection.Kind.ADF, RerunMode.FULL): "ADF rerun of the whole pipeline",
    (Connection.Kind.DATABRICKS, RerunMode.RECOVER): "Databricks repair of the failed tasks",
    (Connection.Kind.DATABRICKS, RerunMode.FULL): "new Databricks run of the job",
}


def rerun_words(run: PipelineRun, mode: str) -> str:
    return RERUN_WORDS[(run.connection.kind, mode)]


def duration_words(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds < 90:
        return f"{seconds} s"
    return f"{seconds // 60} min {seconds % 60:02d} s" if seconds < 3600 else f"{seconds / 3600:.1f} h"
