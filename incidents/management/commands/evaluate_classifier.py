import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from incidents.analysis.evaluation import (
    classify_row,
    evaluate,
    evaluate_by_family,
    family_figures,
    figures,
    format_family_report,
    format_report,
)
from incidents.analysis.jsonl import LineError, error_rows
from incidents.analysis.offline import offline_classifier


class Command(BaseCommand):
    help = (
        "Score the offline classifier on a labelled JSON Lines file (error_message, label, should_retry): accuracy "
        "per class, a confusion matrix, and retry precision and recall. --by-family adds a leave-one-error-family-out "
        "estimate; --json prints the figures as one JSON object."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--by-family",
            action="store_true",
            help="Also classify each error family without the rules that match only its rows.",
        )
        parser.add_argument("--json", dest="as_json", action="store_true", help="Print the figures as one JSON object.")

    def handle(self, *args, file: Path, by_family: bool, as_json: bool, **options) -> None:
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
        evaluation = evaluate(rows, lambda row: classify_row(classifier, row))
        by_families = evaluate_by_family(rows, classifier.knowledge) if by_family else None
        if as_json:
            output = {"plain": figures(evaluation)}
            if by_families is not None:
                output["by_family"] = family_figures(by_families)
            self.stdout.write(json.dumps(output))
            return
        self.stdout.write(format_report(evaluation))
        if by_families is not None:
            self.stdout.write("\n" + format_family_report(by_families))
