from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from incidents.analysis.evaluation import evaluate, format_report
from incidents.analysis.jsonl import LineError, error_rows
from incidents.analysis.offline import offline_classifier


class Command(BaseCommand):
    help = (
        "Score the offline classifier on a labelled JSON Lines file (error_message, label, should_retry): accuracy "
        "per class, a confusion matrix, and retry precision and recall."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", type=Path)

    def handle(self, *args, file: Path, **options) -> None:
        if not file.is_file():
            raise CommandError(f"{file}: no such file")
        rows, problems = [], []
        for number, row in error_rows(file, required=("error_message", "label")):
            if isinstance(row, LineError):
                problems.append(str(row))
            elif not isinstance(row.get("should_retry"), bool):
                problems.append(f"line {number}: field 'should_retry' must be true or false")
            else:
                rows.append(row)
        if problems:
            raise CommandError(f"{file}: " + "; ".join(problems[:10]))
        classifier = offline_classifier()
        evaluation = evaluate(
            rows,
            lambda row: classifier.analyze(
                row["error_message"],
                error_code=str(row.get("error_code") or ""),
                source_system=str(row.get("source_system") or ""),
            ),
        )
        self.stdout.write(format_report(evaluation))
