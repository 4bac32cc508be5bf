"""Check a contract now, from a terminal or a deployment script: `manage.py contract_check NAME`. Prints each
clause's outcome and the violations; exits 1 when the check failed or could not run."""

from django.core.management.base import BaseCommand, CommandError

from contracts.models import CheckRun, DataContract
from contracts.services.checks import CheckNotPossible, contract_check


class Command(BaseCommand):
    help = "Check a data contract on its warehouse now and print the outcome."

    def add_arguments(self, parser) -> None:
        parser.add_argument("name", help="The contract's name.")

    def handle(self, *args, name: str, **options) -> None:
        contract = DataContract.objects.filter(name=name).first()
        if contract is None:
            raise CommandError(f"No contract named {name!r}.")
        try:
            summary = contract_check(contract_id=contract.pk)
        except CheckNotPossible as exc:
            raise CommandError(str(exc)) from exc
        check = CheckRun.objects.get(pk=summary.check_run_id)
        for result in check.results:
            self.stdout.write(f"{result['status']:<8} {result['key']}: {result['message']}")
        for violation in check.violations.filter(kind__startswith="schema_"):
            self.stdout.write(f"{violation.status:<8} {violation.rule}: {violation.message}")
        if check.error_message:
            self.stderr.write(f"error: {check.error_message}")
        self.stdout.write(
            f"{check.status}: {summary.violations} violation(s), {check.rows_checked or 0:,} rows, "
            f"{check.statements} statement(s), {check.duration_ms or 0} ms"
        )
        if check.status in (CheckRun.Status.FAILED, CheckRun.Status.ERROR):
            raise SystemExit(1)
