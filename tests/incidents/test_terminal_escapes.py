"""Terminal escape codes (ANSI colours in notebook traces, titles, control characters) never reach storage, signatures,
the classifier, the LLM prompt or a page; the same error with and without a (coloured) trace is one incident."""

import importlib
import json

import pytest
from django.apps import apps

from aimsweb.terminal import strip_terminal_escapes
from incidents.analysis.llm import FailureContext, prompt_for
from incidents.analysis.offline import offline_classifier
from incidents.analysis.signature import signature_of
from incidents.models import FailureAnalysis, Incident, SignatureStats
from incidents.services import failure_triage
from monitors.clients.databricks import specific_error
from monitors.models import Monitor, PipelineRun
from monitors.services import monitor_poll, runs_ingest
from simulator.corpus import row_by_id
from simulator.testing import run_simulator
from tests.incidents.factories import make_analysis, make_incident
from tests.monitors.conftest import connect_to
from tests.monitors.factories import make_connection, make_pipeline, make_run
from tests.monitors.fakes import record

RED, RESET = "\x1b[0;31m", "\x1b[0m"
PLAIN = "AnalysisException: [TABLE_OR_VIEW_NOT_FOUND] The table or view `raw`.`orders` cannot be found. SQLSTATE: 42P01"
# How a notebook prints it: the exception name in red (IPython's traceback colours).
COLOURED = f"{RED}AnalysisException{RESET}: [TABLE_OR_VIEW_NOT_FOUND] The table or view `raw`.`orders` cannot be found."
COLOURED += " SQLSTATE: 42P01"
ESCAPE_MARKS = ("\x1b", "\\u001b", "\\x1b", "[0;31m", "[0m", "&#27;", "\x9b")


@pytest.fixture(autouse=True)
def offline(settings):
    settings.AIMS_LLM_MODEL = ""


def _clean(text: str) -> bool:
    return not any(mark in text for mark in ESCAPE_MARKS)


@pytest.mark.parametrize(
    ("raw", "plain"),
    [
        (COLOURED, PLAIN),
        ("\x1b[1;38;5;241mbold grey\x1b[39;49m text", "bold grey text"),  # SGR with 256 colours
        ("\x1b]0;notebook title\x07after", "after"),  # OSC ended by BEL
        ("\x1b]8;;https://adb.example/run/1\x1b\\run 1\x1b]8;;\x1b\\ failed", "run 1 failed"),  # OSC 8 hyperlink
        ("\x1b(B\x1b=text\x1bc", "text"),  # charset, keypad, reset: other escape sequences
        ("line 1\r\nline 2\tcol\x00\x07\x08\x7f", "line 1\nline 2\tcol"),  # stray controls; tab and newline stay
        ("10%\r100%", "10%\n100%"),  # a progress line rewritten
        ("\x9b31m8-bit CSI\x9b0m", "8-bit CSI"),
        ("cut off \x1b[0;3", "cut off "),
        ("naïve – 日本語 ✓", "naïve – 日本語 ✓"),
    ],
)
def test_strip_terminal_escapes_removes_sequences_and_controls(raw, plain):
    assert strip_terminal_escapes(raw) == plain


def test_signature_coloured_and_plain_error_sign_alike():
    coloured, plain = (
        signature_of(COLOURED, error_code="RUN_EXECUTION_ERROR"),
        signature_of(PLAIN, error_code="RUN_EXECUTION_ERROR"),
    )
    assert coloured == plain
    assert _clean(coloured.text)


def test_offline_classifier_reads_a_coloured_error_like_a_plain_one():
    classifier = offline_classifier()
    coloured = classifier.analyze(COLOURED, source_system="databricks")
    plain = classifier.analyze(PLAIN, source_system="databricks")
    assert coloured.category == plain.category != "unknown"
    assert (coloured.should_retry, coloured.confidence) == (plain.should_retry, plain.confidence)
    assert _clean(coloured.summary + coloured.root_cause + " ".join(coloured.recommended_actions))


def test_trace_only_failure_ending_in_a_colour_reset_is_read_and_classified():
    # A notebook trace whose last line holds only the reset code: the error is the exception line before it.
    trace = f"{RED}---------{RESET}\nFile {RED}<command-1>{RESET}, line 4\n{COLOURED}\n{RESET}\n"

    error = specific_error(output={"error": "", "error_trace": trace}, task={}, run={})

    assert error == PLAIN
    assert offline_classifier().analyze(error, source_system="databricks").category != "unknown"


def test_llm_prompt_carries_no_escape_codes():
    context = FailureContext(
        error_message=COLOURED,
        error_trace=f"{RED}---------{RESET}\n{COLOURED}\n{RESET}",
        failed_step=f"{RED}transform{RESET}",
        source_system="databricks",
        pipeline="orders_daily",
    )
    prompt = prompt_for(context)
    assert _clean(prompt)
    assert "AnalysisException: [TABLE_OR_VIEW_NOT_FOUND]" in prompt and '"failed_step": "transform"' in prompt


@pytest.mark.django_db
def test_runs_ingest_stores_a_platform_message_without_escapes():
    connection = make_connection()
    coloured = record("run-coloured")
    coloured = type(coloured)(**{**coloured.__dict__, "message": f"Operation on target Copy failed: {COLOURED}"})

    runs_ingest(connection=connection, records=[coloured], queue_detail=False)

    assert PipelineRun.objects.get().error_message == f"Operation on target Copy failed: {PLAIN}"


def _coloured_trace_only_failures(sim, job: str, corpus_id: str) -> list[dict]:
    """Trace-only failures (no `error` in the output) until one's trace is coloured (the simulator colours about
    half, by seed): all of them, the coloured one last."""
    workspace, failures = sim.databricks_client(), []
    for _ in range(20):
        failures.append(sim.fail("databricks", job, corpus_id=corpus_id, variant="trace_only"))
        truth = next(run for run in sim.truth("databricks") if run["run_id"] == failures[-1]["run_id"])
        output = workspace.jobs.get_run_output(truth["failed_task_run_id"])
        assert not output.error
        if "\x1b[" in (output.error_trace or ""):
            return failures
    raise AssertionError("the simulator coloured none of 20 traces")


@pytest.mark.django_db
def test_flow_coloured_trace_and_plain_message_of_one_error_make_one_incident(
    flow_settings, django_capture_on_commit_callbacks, viewer_client
):
    row = row_by_id("dbx-0109")  # org.apache.spark.SparkArithmeticException: [NUMERIC_VALUE_OUT_OF_RANGE...] ...
    with run_simulator("quiet") as sim:
        connections = connect_to(sim)
        job = sim.scenario()["workspaces"][0]["jobs"][0]["name"]
        failures = _coloured_trace_only_failures(sim, job, row.id)
        failures.append(sim.fail("databricks", job, corpus_id=row.id, variant="standard"))  # the plain message
        with django_capture_on_commit_callbacks(execute=True):
            monitor_poll(monitor_id=Monitor.objects.get(connection=connections["sim-databricks-1"]).pk)

    runs = PipelineRun.objects.filter(external_run_id__in=[str(failed["run_id"]) for failed in failures])
    assert runs.count() == len(failures) >= 2
    assert {run.error_message for run in runs} == {row.error_message}
    assert all(_clean(run.error_message + run.error_trace + json.dumps(run.failure_detail)) for run in runs)
    analyses = FailureAnalysis.objects.filter(run__in=runs)
    assert len({analysis.signature for analysis in analyses}) == 1 and analyses.count() == len(failures)
    assert {analysis.category for analysis in analyses} == {row.label}
    incident = Incident.objects.get()
    assert incident.occurrence_count == len(failures)

    for url in (f"/incidents/{incident.pk}/", "/runs/", "/incidents/"):
        page = viewer_client.get(url)
        assert page.status_code == 200
        assert _clean(page.content.decode()), url
    assert "NUMERIC_VALUE_OUT_OF_RANGE" in viewer_client.get(f"/incidents/{incident.pk}/").content.decode()


@pytest.mark.django_db
def test_migration_strips_stored_escapes_and_signs_coloured_errors_again(
    django_capture_on_commit_callbacks, monkeypatch, settings
):
    settings.AIMS_STORM_WINDOW_MINUTES = 0  # the migration re-signs incidents of one pipeline, as grouped then
    pipeline = make_pipeline()
    clean_run = make_run(pipeline=pipeline, error_message=PLAIN, error_code="RUN_EXECUTION_ERROR")
    with django_capture_on_commit_callbacks(execute=True):
        clean_incident = failure_triage(run_id=clean_run.pk)
    # Stored before stripping: a coloured error, its own signature, statistics and (resolved) incident.
    dirty_run = make_run(
        pipeline=pipeline,
        error_message=COLOURED,
        error_code="RUN_EXECUTION_ERROR",
        error_trace=f"{RED}---{RESET}\n{COLOURED}",
        failure_detail={"output": {"error_trace": COLOURED}},
    )
    old_hash, old_text = "d" * 64, "[RUN_EXECUTION_ERROR] \x1b[<n>;<n>mAnalysisException\x1b[<n>m: ..."
    SignatureStats.objects.create(signature=old_hash, signature_text=old_text, failures=1, retries=1)
    old_incident = make_incident(
        dirty_run,
        title=f"{pipeline.name}: {COLOURED}",
        status=Incident.Status.RESOLVED,
        fingerprint=_fingerprint(dirty_run, old_hash),
    )
    make_analysis(dirty_run, signature=old_hash, signature_text=old_text, incident=old_incident)

    for app, name in (("monitors", "0009_strip_terminal_escapes"), ("incidents", "0008_strip_terminal_escapes")):
        migration = importlib.import_module(f"{app}.migrations.{name}")
        if app == "incidents":  # run on today's schema, where 0013 renamed the timeline's two text columns
            monkeypatch.setitem(migration.TEXT_FIELDS, "IncidentEvent", ("note", "params"))
        migration.strip_stored_escapes(apps, None)
        migration.strip_stored_escapes(apps, None)  # idempotent

    dirty_run.refresh_from_db()
    assert (dirty_run.error_message, dirty_run.error_trace) == (PLAIN, f"---\n{PLAIN}")
    assert dirty_run.failure_detail == {"output": {"error_trace": PLAIN}}
    analysis = FailureAnalysis.objects.get(run=dirty_run)
    clean_analysis = FailureAnalysis.objects.get(run=clean_run)
    assert analysis.signature == clean_analysis.signature and _clean(analysis.signature_text)
    stats = SignatureStats.objects.get()
    assert stats.signature == clean_analysis.signature and (stats.failures, stats.retries) == (2, 1)
    old_incident.refresh_from_db()
    assert old_incident.fingerprint == clean_incident.fingerprint and _clean(old_incident.title)


def _fingerprint(run: PipelineRun, signature: str) -> str:
    from incidents.services.occurrences import fingerprint_of
    from incidents.services.triage import run_group_key

    return fingerprint_of(run_group_key(run, FailureAnalysis(signature=signature)))
