import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from insights.anomalies.detector import SENSITIVITIES, DetectorInputError, detect
from insights.anomalies.series import SeriesLineError, series_from_line


class Command(BaseCommand):
    help = (
        "Flag the anomalous points of each series of a JSON Lines file (lines with id, kind, granularity, points). "
        'One JSON object per line on stdout, {"id", "anomalous": [indexes]} or {"id", "error"}; each point is '
        "judged from the points before it and itself only; exit status 0."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", type=Path, metavar="FILE.jsonl")
        parser.add_argument("--sensitivity", choices=SENSITIVITIES, default="medium")

    def handle(self, *args, file: Path, sensitivity: str, **options) -> None:
        try:
            lines = file.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise CommandError(f"{file}: {exc}") from exc
        for number, line in enumerate(lines, start=1):
            if line.strip():
                self.stdout.write(json.dumps(_detect_line(line, f"{file}:{number}", sensitivity, self.stderr)))


def _detect_line(line: str, where: str, sensitivity: str, stderr: Any) -> dict[str, Any]:
    """One output object per input line; a line that cannot be scored says why and the run goes on."""
    try:
        series = series_from_line(line)
        detections = detect(series.points, series.kind, series.granularity, sensitivity)
    except (SeriesLineError, DetectorInputError) as exc:
        stderr.write(f"{where}: {exc}")
        return {"id": _line_id(line), "error": str(exc)}
    return {"id": series.id, "anomalous": [index for index, found in enumerate(detections) if found.anomalous]}


def _line_id(line: str) -> Any:
    try:
        data = json.loads(line)
    except json.JSONDecodeError:
        return None
    return data.get("id") if isinstance(data, dict) else None
