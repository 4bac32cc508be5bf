import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from incidents.analysis.jsonl import LineError, error_rows
from incidents.analysis.llm import FailureContext, llm_analyzer
from incidents.analysis.offline import offline_classifier
from incidents.analysis.signature import signature_of


class Command(BaseCommand):
    help = (
        "Classify the errors of a JSON Lines file (error_message, optional id, source_system, error_code); print one "
        "JSON line per input with id, category, should_retry, confidence and signature."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--analyzer",
            choices=["offline", "llm"],
            default="offline",
            help="offline (default) or the configured LLM, which falls back to offline per error when it fails",
        )

    def handle(self, *args, file: Path, analyzer: str, **options) -> None:
        if not file.is_file():
            raise CommandError(f"{file}: no such file")
        classifier, bad = offline_classifier(), 0
        llm = llm_analyzer() if analyzer == "llm" else None
        if analyzer == "llm" and llm is None:
            raise CommandError("--analyzer llm needs AIMS_LLM_MODEL (and AIMS_LLM_BASE_URL, AIMS_LLM_API_KEY) set")
        for number, row in error_rows(file):
            if isinstance(row, LineError):
                bad += 1
                self.stderr.write(f"{file}: {row}")
                continue
            code, source = str(row.get("error_code") or ""), str(row.get("source_system") or "")
            line: dict = {"id": row.get("id", number)}
            result = None
            if llm is not None:
                outcome = llm.analyze(
                    FailureContext(error_message=row["error_message"], error_code=code, source_system=source)
                )
                result = outcome.result
                line["analyzer"] = "llm" if result else "offline"
                if outcome.failure:
                    line["fallback_reason"] = outcome.failure
            if result is None:
                result = classifier.analyze(row["error_message"], error_code=code, source_system=source)
            line |= {
                "category": result.category.value,
                "should_retry": result.should_retry,
                "confidence": result.confidence,
                "signature": signature_of(row["error_message"], error_code=code).hash,
            }
            self.stdout.write(json.dumps(line))
        if bad:
            raise CommandError(f"{bad} line(s) of {file} could not be read (see above)")
