import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from incidents.analysis.jsonl import LineError, error_rows
from incidents.analysis.offline import offline_classifier
from incidents.analysis.signature import signature_of


class Command(BaseCommand):
    help = (
        "Classify the errors of a JSON Lines file (error_message, optional id, source_system, error_code); print one "
        "JSON line per input with id, category, should_retry, confidence and signature."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--analyzer", choices=["offline"], default="offline", help="which analyzer decides")

    def handle(self, *args, file: Path, analyzer: str, **options) -> None:
        if not file.is_file():
            raise CommandError(f"{file}: no such file")
        classifier, bad = offline_classifier(), 0
        for number, row in error_rows(file):
            if isinstance(row, LineError):
                bad += 1
                self.stderr.write(f"{file}: {row}")
                continue
            code = str(row.get("error_code") or "")
            result = classifier.analyze(
                row["error_message"], error_code=code, source_system=str(row.get("source_system") or "")
            )
            self.stdout.write(
                json.dumps(
                    {
                        "id": row.get("id", number),
                        "category": result.category.value,
                        "should_retry": result.should_retry,
                        "confidence": result.confidence,
                        "signature": signature_of(row["error_message"], error_code=code).hash,
                    }
                )
            )
        if bad:
            raise CommandError(f"{bad} line(s) of {file} could not be read (see above)")
