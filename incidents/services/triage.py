"""Triage of a failed run: analyse it, count it in its incident, let the retry policy decide, and page whoever the
routes name — once per run, however often the task runs."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django_q.tasks import async_task

from aimsweb.batch import each_then_raise
from aimsweb.headline import headline_title
from aimsweb.memo import memo_scope
from incidents.analysis.signature import Signature, signature_of
from incidents.models import FailureAnalysis, Incident, Occurrence
from incidents.services.analysis import Verdict, failure_verdict, failure_verdict_store
from incidents.services.occurrences import Change, OccurrenceReport, fingerprint_of, occurrence_intake
from incidents.services.retries import incident_retry_decide
from incidents.services.storms import failure_group_key, pipeline_group_key, storm_group_key, storms_grouped
from monitors.models import PipelineRun
from remediation import tasks as remediation_tasks
from remediation.models import RetryAttempt


@dataclass(frozen=True)
class TriageReads:
    """What triage reads about a batch of runs, in three queries for the whole batch: their analyses so far, the
    attempts they are reruns of, and the newest success of each of their pipelines since the oldest of them; and the
    error signatures worked out while ordering the batch, so analysis does not normalise the same text again."""

    analyses: dict[int, FailureAnalysis]
    attempts: dict[tuple[int, str], RetryAttempt]
    latest_success: dict[int, datetime]
    signatures: dict[int, Signature] = field(default_factory=dict)

    @classmethod
    def of(cls, runs: list[PipelineRun]) -> "TriageReads":
        ids = [run.pk for run in runs]
        attempts = (
            RetryAttempt.objects.filter(
                run__connection_id__in={run.connection_id for run in runs},
                external_rerun_id__in=[run.external_run_id for run in runs],
            )
            .select_related("run")
            .order_by("-pk")  # the first one wins, as it did one run at a time
        )
        starts = [run.started_at for run in runs if run.started_at is not None]
        latest = (
            PipelineRun.objects.filter(
                pipeline_id__in={run.pipeline_id for run in runs},
                status=PipelineRun.Status.SUCCEEDED,
                started_at__gt=min(starts),
            )
            .values("pipeline_id")
            .annotate(latest=Max("started_at"))
            if starts
            else []
        )
        return cls(
            analyses={analysis.run_id: analysis for analysis in FailureAnalysis.objects.filter(run_id__in=ids)},
            attempts={(a.run.connection_id, a.external_rerun_id): a for a in attempts},
            latest_success={row["pipeline_id"]: row["latest"] for row in latest},
        )


def run_group_key(run: PipelineRun, analysis: FailureAnalysis) -> str:
    """connection × signature shared by the pipelines a storm fails, or connection × pipeline × signature (see
    incidents.services.storms for which); pipeline × error class when AIMS_INCIDENT_GROUPING is "category"."""
    if settings.AIMS_INCIDENT_GROUPING == "category":
        return f"category:{run.pipeline_id}:{analysis.category}"
    return failure_group_key(connection_id=run.connection_id, pipeline_id=run.pipeline_id, signature=analysis.signature)


def run_title(run: PipelineRun, analysis: FailureAnalysis) -> str:
    """The pipeline's name and the headline of the run's innermost error (else the analysis's summary): one line a
    person reads, at most HEADLINE_MAX characters; the full error stays on the run and incident pages."""
    return headline_title(run.pipeline.name, run.error_message, fallback=analysis.summary)


def run_occurrence(run: PipelineRun, analysis: FailureAnalysis) -> OccurrenceReport:
    """A failed run (loaded with its pipeline) and its analysis, as an occurrence: the evidence is what a person
    paged needs (where, the error, the analysis's summary, cause and actions)."""
    return OccurrenceReport(
        source=Occurrence.Source.PIPELINE_RUN,
        group_key=run_group_key(run, analysis),
        dedup_key=f"pipeline_run:{run.pk}",
        title=run_title(run, analysis),
        severity=analysis.severity,
        category=analysis.category,
        subject=f"pipeline_run:{run.pk}",
        subject_label=f"run {run.external_run_id}",
        detected_at=run.started_at or run.created_at,
        connection_id=run.connection_id,
        pipeline_id=run.pipeline_id,
        run_id=run.pk,
        analysis_id=analysis.pk,
        pipeline_criticality=run.pipeline.criticality,
        evidence={
            "external_run_id": run.external_run_id,
            "failed_step": run.failed_step,
            "error_code": run.error_code,
            "error": run.error_message,
            "summary": analysis.summary,
            "root_cause": analysis.root_cause,
            "recommended_actions": list(analysis.recommended_actions or []),
        },
    )


def _attempt_behind(run: PipelineRun, reads: TriageReads) -> RetryAttempt | None:
    """The attempt whose rerun this run is (an ADF recovery run, a new Databricks job run), if any."""
    found = reads.attempts.get((run.connection_id, run.external_run_id))
    if found is None:
        group = (run.raw or {}).get("runGroupId")
        if group and group != run.external_run_id:
            # A recovery run shares its original's group: if the original has attempts, it belongs to their chain.
            found = (
                RetryAttempt.objects.filter(run__connection_id=run.connection_id, run__external_run_id=group)
                .select_related("run")
                .order_by("-attempt_number")
                .first()
            )
    return found


def _passed_over(run: PipelineRun, reads: TriageReads) -> bool:
    """A failure nobody needs to act on any more: it ended long before AIMS saw it, or a later run of the pipeline
    has already succeeded. Reruns of attempts are never passed over: their attempt waits for them."""
    ended = run.ended_at or run.started_at
    if ended is not None and ended < timezone.now() - timedelta(hours=settings.AIMS_TRIAGE_MAX_AGE_HOURS):
        return True
    latest = reads.latest_success.get(run.pipeline_id)
    return run.started_at is not None and latest is not None and latest > run.started_at


def failure_triage(
    *, run_id: int | None = None, run: PipelineRun | None = None, reads: TriageReads | None = None
) -> Incident | None:
    """Analyse a failed run (by id, or loaded with its pipeline and connection), then in one transaction: count it
    in its incident (opening or reopening one), let the retry policy decide about a rerun — or, for a rerun that
    failed, leave it to the attempt it belongs to — and queue the page when the incident is new. Idempotent: a run
    already counted is left alone. A failure passed over (stale, or superseded by a later success) is analysed
    only; returns None then. A batch passes what it has read for all its runs (TriageReads)."""
    if run is None:
        assert run_id is not None  # a caller passes the run or its id
        run = PipelineRun.objects.select_related("pipeline", "connection").get(pk=run_id)
    reads = reads or TriageReads.of([run])
    analysis = reads.analyses.get(run.pk)
    if analysis is not None:
        return _triage(run, reads, analysis=analysis)
    verdict = failure_verdict(run, signature=reads.signatures.get(run.pk))
    try:
        return _triage(run, reads, verdict=verdict)
    except IntegrityError:
        if not FailureAnalysis.objects.filter(run=run).exists():
            raise
        # Another worker stored and counted this run's verdict meanwhile: its incident it is.
        return _triage(run, TriageReads.of([run]), analysis=FailureAnalysis.objects.get(run=run))


def _triage(
    run: PipelineRun, reads: TriageReads, *, analysis: FailureAnalysis | None = None, verdict: Verdict | None = None
) -> Incident | None:
    with transaction.atomic():
        if verdict is not None:
            # Stored in this transaction: nobody else can count the run before it commits (a second verdict waits
            # on the unique index, then fails).
            analysis = failure_verdict_store(verdict)
        else:
            assert analysis is not None  # a caller passes the stored analysis or a verdict to store
            # Lock the analysis row alone (a join here leaves PostgreSQL to plan it on statistics a bulk poll has
            # just made stale). Whoever holds it counts the run, as loaded (a batch, a second or so, ago).
            counted = FailureAnalysis.objects.select_for_update().filter(pk=analysis.pk)
            incident_id = counted.values_list("incident", flat=True).get()
            if incident_id is not None:
                return Incident.objects.get(pk=incident_id)
        attempt = _attempt_behind(run, reads)
        if attempt is None and _passed_over(run, reads):
            return None

        def before_page(incident: Incident, occurrence: Occurrence, change: Change) -> bool:
            if attempt is not None:
                # A rerun that failed is the outcome of its attempt, not a new failure to retry on its own.
                PipelineRun.objects.filter(pk=run.pk, rerun_of__isnull=True).update(rerun_of=attempt.run)
                transaction.on_commit(
                    partial(async_task, remediation_tasks.retry_attempt_follow_task, attempt.pk, group="remediation")
                )
                return True
            if run.status == PipelineRun.Status.FAILED:
                return incident_retry_decide(run=run, analysis=analysis, incident=incident)
            return False

        incident = occurrence_intake(report=run_occurrence(run, analysis), before_page=before_page).incident
        FailureAnalysis.objects.filter(pk=analysis.pk).update(incident=incident)
    return incident


def failures_triage(*, run_ids: list[int]) -> int:
    """Triage a batch of failed runs (see failure_triage); one that fails does not stop the others, and the first
    error is raised at the end so the task queue records it. Returns how many were triaged. The runs are read in
    one query, and the policies, routes and maintenance windows once for the batch. A failure that would open an
    incident goes before repeats of open ones: under a burst of repeats the new problem is on the pages (and
    paging) first."""
    runs = PipelineRun.objects.select_related("pipeline", "connection").in_bulk(run_ids)
    reads = TriageReads.of(list(runs.values()))

    def triage(run_id: int) -> None:
        run = runs.get(run_id)
        if run is None:
            raise PipelineRun.DoesNotExist(f"run {run_id} no longer exists")
        failure_triage(run=run, reads=reads)

    with memo_scope():
        return each_then_raise(_new_problems_first(run_ids, runs, reads), triage)


def _new_problems_first(run_ids: list[int], runs: dict[int, PipelineRun], reads: TriageReads) -> list[int]:
    """The batch's runs reordered (one query): for each fingerprint with no open incident, its first run, then the
    rest in their order. The fingerprint is known before the analysis when incidents group by signature (the
    signature is the error's normalised text); grouped by error class, the order stays as it came."""
    if settings.AIMS_INCIDENT_GROUPING == "category":
        return run_ids
    # Each run's own fingerprint and, when storms are grouped, the shared one of its connection and signature: a run
    # with neither open is a new problem, and the first run of each shared fingerprint leads.
    keys: dict[int, tuple[str, str]] = {}
    for run_id in run_ids:
        run = runs.get(run_id)
        if run is not None and run.pk not in reads.analyses:
            signature = reads.signatures[run.pk] = signature_of(run.error_message, error_code=run.error_code)
            own = pipeline_group_key(
                connection_id=run.connection_id, pipeline_id=run.pipeline_id, signature=signature.hash
            )
            shared = storm_group_key(connection_id=run.connection_id, signature=signature.hash)
            keys[run_id] = (fingerprint_of(own), fingerprint_of(shared if storms_grouped() else own))
    open_keys = set(
        Incident.objects.filter(fingerprint__in={key for pair in keys.values() for key in pair})
        .exclude(status=Incident.Status.RESOLVED)
        .values_list("fingerprint", flat=True)
    )
    first: dict[str, int] = {}
    for run_id in run_ids:
        pair = keys.get(run_id)
        if pair is not None and not open_keys.intersection(pair):
            first.setdefault(pair[1], run_id)
    leading = set(first.values())
    return [*first.values(), *(run_id for run_id in run_ids if run_id not in leading)]
