"""Failure analysis: one verdict per failed run, from the LLM (cached per signature) or the offline classifier."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from aimsweb.choices import ErrorCategory
from aimsweb.redact import redact
from incidents.analysis.llm import FailureContext, llm_analyzer
from incidents.analysis.offline import offline_classifier
from incidents.analysis.schema import AnalysisResult
from incidents.analysis.signature import Signature, signature_of
from incidents.models import FailureAnalysis, SignatureStats
from monitors.models import PipelineRun

LLM_CLAIM_SECONDS = 120
RESULT_FIELDS = (
    "category",
    "severity",
    "should_retry",
    "retry_delay_minutes",
    "confidence",
    "summary",
    "root_cause",
    "recommended_actions",
    "manual_intervention_required",
)
RETRYABLE_BY_NATURE = {ErrorCategory.TRANSIENT, ErrorCategory.RESOURCE, ErrorCategory.UNKNOWN}


def _context(run: PipelineRun, history: tuple[str, ...]) -> FailureContext:
    return FailureContext(
        error_message=run.error_message,
        error_trace=run.error_trace,
        error_code=run.error_code,
        source_system=run.connection.kind,
        pipeline=run.pipeline.name,
        failed_step=run.failed_step,
        history=history,
    )


def _history(stats: SignatureStats) -> tuple[str, ...]:
    if not stats.failures:
        return ()
    line = f"{stats.failures} earlier failure(s) with this signature; {stats.retries} retried"
    if stats.retries:
        line += f", {stats.retry_successes} of those retries succeeded"
    return (line,)


def _learn(result: AnalysisResult, stats: SignatureStats) -> tuple[AnalysisResult, str]:
    """Let the outcomes of earlier retries of this signature correct the verdict, and say so."""
    rate = stats.retry_success_rate
    if stats.retries < settings.AIMS_LEARNING_MIN_RETRIES or rate is None:
        return result, ""
    history = f"{stats.retry_successes} of {stats.retries} earlier retries of this error succeeded"
    if result.should_retry and rate < 0.2:
        note = f"{history}, so AIMS no longer advises retrying it."
        changed = result.model_copy(
            update={
                "should_retry": False,
                "confidence": max(result.confidence, 80),
                "manual_intervention_required": True,
            }
        )
        return changed, note
    if not result.should_retry and rate >= 0.8 and result.category in RETRYABLE_BY_NATURE:
        note = f"{history}, so AIMS advises retrying it."
        return result.model_copy(update={"should_retry": True, "confidence": max(result.confidence, 75)}), note
    if result.should_retry:
        adjusted = round(result.confidence * 0.5 + rate * 100 * 0.5)
        return result.model_copy(update={"confidence": adjusted}), f"{history}; confidence reflects that."
    return result, ""


def _claim_llm(stats: SignatureStats, now) -> bool:
    """One worker at a time asks the LLM about a signature; the others use the offline verdict meanwhile."""
    return bool(
        SignatureStats.objects.filter(pk=stats.pk)
        .filter(Q(llm_claimed_until__isnull=True) | Q(llm_claimed_until__lt=now))
        .update(llm_claimed_until=now + timedelta(seconds=LLM_CLAIM_SECONDS))
    )


@dataclass(frozen=True)
class Verdict:
    """A failed run's analysis, ready to store: every field of its FailureAnalysis, and the signature it counts in."""

    run: PipelineRun
    fields: dict
    stats_id: int
    at: datetime


def failure_verdict(run: PipelineRun, *, signature: Signature | None = None) -> Verdict:
    """Decide about a failed run (loaded with its pipeline and connection): reuse the LLM analysis of its signature
    when one is fresh, else ask the LLM (at most one call per signature per window), else the offline classifier;
    adjust by the signature's retry history; redact. `signature`: the run's, when the caller has worked it out."""
    signature = signature or signature_of(run.error_message, error_code=run.error_code)
    now = timezone.now()
    stats, _ = SignatureStats.objects.get_or_create(
        signature=signature.hash, defaults={"signature_text": redact(signature.text)}
    )
    window = now - timedelta(hours=settings.AIMS_LLM_CACHE_HOURS)
    fields: dict = {"analyzer": FailureAnalysis.Analyzer.OFFLINE}
    result: AnalysisResult | None = None
    cached = stats.llm_analysis if stats.llm_analyzed_at and stats.llm_analyzed_at >= window else None
    if cached is not None:
        result = AnalysisResult.model_validate({name: getattr(cached, name) for name in RESULT_FIELDS})
        fields = {"analyzer": FailureAnalysis.Analyzer.LLM, "model": cached.model, "cache_hit": True}
    else:
        analyzer = llm_analyzer()
        if analyzer is not None:
            if _claim_llm(stats, now):
                outcome = analyzer.analyze(_context(run, _history(stats)))
                fields = {
                    "model": outcome.model,
                    "prompt_tokens": outcome.prompt_tokens,
                    "completion_tokens": outcome.completion_tokens,
                    "cost_usd": outcome.cost_usd,
                    "latency_ms": outcome.latency_ms,
                    "analyzer": FailureAnalysis.Analyzer.LLM if outcome.result else FailureAnalysis.Analyzer.OFFLINE,
                    "fallback_reason": outcome.failure[:200],
                }
                result = outcome.result
            else:
                fields["fallback_reason"] = "another worker is asking the LLM about this signature"
    if result is None:
        result = offline_classifier().analyze(
            run.error_message,
            error_code=run.error_code,
            source_system=run.connection.kind,
            failed_step=run.failed_step,
            pipeline=run.pipeline.name,
        )
    result, learned = _learn(result, stats)
    values = result.model_dump(mode="json")
    values["summary"] = redact(values["summary"])
    values["root_cause"] = redact(values["root_cause"])
    values["recommended_actions"] = [redact(action) for action in values["recommended_actions"]]
    fields |= values | {"signature": signature.hash, "signature_text": redact(signature.text), "learned": learned}
    return Verdict(run=run, fields=fields, stats_id=stats.pk, at=now)


def failure_verdict_store(verdict: Verdict) -> FailureAnalysis:
    """Store a verdict and count the failure in its signature. Call inside a transaction: when the run has a
    verdict already (one per run), IntegrityError leaves that transaction to be rolled back."""
    analysis = FailureAnalysis.objects.create(run=verdict.run, **verdict.fields)
    update = {"failures": F("failures") + 1, "last_seen_at": verdict.at}
    if analysis.analyzer == FailureAnalysis.Analyzer.LLM and not analysis.cache_hit:
        update |= {"llm_analysis": analysis, "llm_analyzed_at": verdict.at, "llm_claimed_until": None}
    SignatureStats.objects.filter(pk=verdict.stats_id).update(**update)
    return analysis


def signature_retry_record(*, signature: str, succeeded: bool) -> None:
    """Count one finished retry of a signature (called by the retry engine), for learning."""
    SignatureStats.objects.filter(signature=signature).update(
        retries=F("retries") + 1, retry_successes=F("retry_successes") + (1 if succeeded else 0)
    )
