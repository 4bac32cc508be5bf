"""Every value the LLM may legally answer (the enums and bounds of the answer schema it is sent) opens exactly one
incident, end to end: the simulator's chat endpoint answers it, triage analyses the failure through the real openai
client, and the incident gets a severity on the incident scale."""

import pytest
from django.core import mail

from aimsweb.choices import ErrorCategory, Severity
from incidents.analysis.schema import AnalysisResult
from incidents.models import FailureAnalysis, Incident, NotificationChannel, NotificationRoute
from incidents.services import failure_triage
from incidents.services.occurrences import INCIDENT_SEVERITIES, SEVERITY_ORDER, severity_for
from monitors.models import Pipeline
from remediation.models import RetryAttempt
from simulator.testing import run_simulator
from tests.monitors.factories import make_pipeline, make_retry_policy, make_run

SCHEMA = AnalysisResult.model_json_schema()
SEVERITIES = SCHEMA["$defs"]["Severity"]["enum"]  # what the model is told it may answer
CATEGORIES = SCHEMA["$defs"]["ErrorCategory"]["enum"]
CONFIDENCE = SCHEMA["properties"]["confidence"]
DELAY = SCHEMA["properties"]["retry_delay_minutes"]
MIN_CONFIDENCE = 60
ERROR = "Job failed for a reason only the model reads: step {n} stopped"
INCIDENT_SCALE = {"critical", "high", "medium", "low"}  # a failed run is never merely informational
EXPECTED_SEVERITY = {"critical": "critical", "high": "high", "medium": "medium", "low": "low", "info": "low"}


@pytest.fixture(scope="module")
def sim():
    with run_simulator("quiet") as handle:
        yield handle


@pytest.fixture
def llm(sim, settings):
    settings.AIMS_LLM_MODEL = "sim-analyst"
    settings.AIMS_LLM_BASE_URL = f"{sim.url}/v1"
    settings.AIMS_LLM_API_KEY = "sk-test"
    settings.AIMS_LLM_TIMEOUT_SECONDS = 5
    settings.AIMS_LLM_MIN_CONFIDENCE = MIN_CONFIDENCE
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    channel = NotificationChannel.objects.create(name="oncall", kind="email", recipients="oncall@example.org")
    route = NotificationRoute.objects.create(name="everything", notify_while_retrying=True)
    route.channels.add(channel)
    yield sim
    sim.set_llm_override()


def _triage_answer(sim, capture, **answer) -> tuple[Incident, FailureAnalysis]:
    """Triage one fresh failure while the model answers `answer` (merged into its otherwise valid verdict)."""
    sim.set_llm_override(**answer)
    run = make_run(pipeline=make_pipeline(), error_message=ERROR.format(n=len(answer)), error_code="")
    with capture(execute=True):
        incident = failure_triage(run_id=run.pk)
    assert incident is not None
    assert Incident.objects.count() == 1 and Incident.objects.get().pk == incident.pk
    assert incident.severity in INCIDENT_SCALE
    assert len(mail.outbox) == 1  # and its page went out
    return incident, FailureAnalysis.objects.get(run=run)


def test_schema_enums_are_the_shared_vocabulary():
    assert list(Severity.values) == SEVERITIES and list(ErrorCategory.values) == CATEGORIES
    assert sorted(SEVERITY_ORDER) == sorted(SEVERITIES)  # the mapping orders exactly what the model may answer
    assert set(INCIDENT_SEVERITIES) == INCIDENT_SCALE
    assert (CONFIDENCE["minimum"], CONFIDENCE["maximum"]) == (0, 100)
    assert (DELAY["minimum"], DELAY["maximum"]) == (0, 1440)


@pytest.mark.parametrize("criticality", [*Pipeline.Criticality.values, "", "unheard-of"])
@pytest.mark.parametrize("severity", [*SEVERITIES, "", "catastrophic"])
def test_severity_for_is_total_over_the_schema_and_unknown_values(severity, criticality):
    assert severity_for(analysis_severity=severity, criticality=criticality) in INCIDENT_SCALE


@pytest.mark.parametrize(
    ("severity", "criticality", "expected"),
    [
        ("info", Pipeline.Criticality.NORMAL, "low"),
        ("info", Pipeline.Criticality.CRITICAL, "low"),
        ("info", Pipeline.Criticality.HIGH, "medium"),
        ("info", Pipeline.Criticality.LOW, "low"),
        ("catastrophic", Pipeline.Criticality.NORMAL, "medium"),
        ("", Pipeline.Criticality.CRITICAL, "high"),
    ],
)
def test_severity_for_maps_info_and_unknown_values_onto_the_incident_scale(severity, criticality, expected):
    assert severity_for(analysis_severity=severity, criticality=criticality) == expected


@pytest.mark.django_db
@pytest.mark.parametrize("severity", SEVERITIES)
def test_llm_severity_opens_one_incident(llm, django_capture_on_commit_callbacks, severity):
    incident, analysis = _triage_answer(llm, django_capture_on_commit_callbacks, severity=severity, confidence=90)

    assert analysis.analyzer == "llm" and analysis.severity == severity
    assert incident.severity == EXPECTED_SEVERITY[severity]


@pytest.mark.django_db
@pytest.mark.parametrize("should_retry", [True, False])
@pytest.mark.parametrize("category", CATEGORIES)
def test_llm_category_and_retry_advice_open_one_incident(
    llm, django_capture_on_commit_callbacks, category, should_retry
):
    make_retry_policy(error_classes=CATEGORIES, min_confidence=0, backoff_initial_seconds=300)

    incident, analysis = _triage_answer(
        llm, django_capture_on_commit_callbacks, category=category, should_retry=should_retry, confidence=90
    )

    assert analysis.analyzer == "llm" and (analysis.category, analysis.should_retry) == (category, should_retry)
    assert incident.category == category
    # the policy covers every class, so the model's advice alone decides about the (later) rerun
    assert RetryAttempt.objects.filter(run=analysis.run).count() == (1 if should_retry else 0)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "confidence", [CONFIDENCE["minimum"], MIN_CONFIDENCE - 1, MIN_CONFIDENCE, CONFIDENCE["maximum"]]
)
def test_llm_confidence_bounds_open_one_incident(llm, django_capture_on_commit_callbacks, confidence):
    incident, analysis = _triage_answer(llm, django_capture_on_commit_callbacks, confidence=confidence)

    if confidence < MIN_CONFIDENCE:  # below the threshold: the offline classifier decides, and says why
        assert analysis.analyzer == "offline"
        assert analysis.fallback_reason == f"low confidence ({confidence} < {MIN_CONFIDENCE})"
    else:
        assert analysis.analyzer == "llm" and analysis.confidence == confidence
    assert incident.analysis_id == analysis.pk


@pytest.mark.django_db
@pytest.mark.parametrize("delay", [DELAY["minimum"], DELAY["maximum"]])
def test_llm_retry_delay_bounds_open_one_incident(llm, django_capture_on_commit_callbacks, delay):
    make_retry_policy(min_confidence=0, backoff_initial_seconds=300)

    incident, analysis = _triage_answer(
        llm,
        django_capture_on_commit_callbacks,
        category="transient",
        should_retry=True,
        confidence=90,
        retry_delay_minutes=delay,
    )

    assert analysis.analyzer == "llm" and analysis.retry_delay_minutes == delay
    attempt = RetryAttempt.objects.get(run=analysis.run)
    assert attempt.scheduled_for > incident.first_seen_at  # the policy's back-off bounds the advised delay


@pytest.mark.django_db
@pytest.mark.parametrize(
    "answer",
    [
        {"summary": "s" * 500, "root_cause": "", "recommended_actions": []},
        {"recommended_actions": ["a" * 500] * 10, "manual_intervention_required": True},
        {"manual_intervention_required": False, "root_cause": "r" * 2000},
    ],
    ids=["longest-summary-no-cause-no-actions", "most-and-longest-actions", "longest-cause"],
)
def test_llm_text_bounds_open_one_incident(llm, django_capture_on_commit_callbacks, answer):
    incident, analysis = _triage_answer(llm, django_capture_on_commit_callbacks, confidence=90, **answer)

    assert analysis.analyzer == "llm" and analysis.recommended_actions == answer.get(
        "recommended_actions", analysis.recommended_actions
    )
    assert incident.title
