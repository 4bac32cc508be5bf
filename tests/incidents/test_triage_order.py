"""A batch of failures takes a failure that opens an incident before repeats of open ones, so a new problem is not
queued behind a burst of repeats; a run that cannot be judged does not stop the rest of its batch."""

import pytest

from incidents.models import Incident, Occurrence
from incidents.services import failure_triage, failures_triage
from tests.incidents.test_triage import MISSING_TABLE, TIMEOUT, offline  # noqa: F401  (fixture)
from tests.monitors.factories import make_pipeline, make_run


@pytest.mark.django_db
def test_a_new_problem_is_counted_before_the_repeats_ahead_of_it_in_its_batch(django_capture_on_commit_callbacks):
    noisy, quiet = make_pipeline(), make_pipeline()
    with django_capture_on_commit_callbacks(execute=True):
        failure_triage(run_id=make_run(pipeline=noisy, error_message=TIMEOUT.format(n=0)).pk)
    repeats = [make_run(pipeline=noisy, error_message=TIMEOUT.format(n=n)) for n in range(1, 4)]
    new = [make_run(pipeline=quiet, error_message=MISSING_TABLE.format(n=n)) for n in range(2)]

    with django_capture_on_commit_callbacks(execute=True):
        assert failures_triage(run_ids=[run.pk for run in [*repeats, *new]]) == 5

    counted = list(Occurrence.objects.order_by("pk").values_list("run_id", flat=True))
    # The first run of the new problem goes first; the rest keep their order (the second is a repeat by then).
    assert counted[1:] == [new[0].pk, *(run.pk for run in repeats), new[1].pk]
    assert Incident.objects.get(pipeline=quiet).occurrence_count == 2
    assert Incident.objects.get(pipeline=noisy).occurrence_count == 4


@pytest.mark.django_db
def test_a_run_that_cannot_be_judged_does_not_stop_its_batch(monkeypatch, django_capture_on_commit_callbacks):
    from incidents.services import triage

    broken, fine = (make_run(pipeline=make_pipeline(), error_message=TIMEOUT.format(n=n)) for n in range(2))
    real = triage.failure_verdict

    def verdict(run, **kwargs):
        if run.pk == broken.pk:
            raise RuntimeError("classifier down")
        return real(run, **kwargs)

    monkeypatch.setattr(triage, "failure_verdict", verdict)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError, match="classifier down"):
        failures_triage(run_ids=[broken.pk, fine.pk])

    assert list(Occurrence.objects.values_list("run_id", flat=True)) == [fine.pk]


@pytest.mark.django_db
def test_a_batch_works_out_each_error_signature_once(monkeypatch, django_capture_on_commit_callbacks):
    """Ordering the batch needs each run's signature; the analysis takes it from there instead of normalising the
    error text a second time."""
    from incidents.services import analysis, triage

    runs = [make_run(pipeline=make_pipeline(), error_message=TIMEOUT.format(n=n)) for n in range(3)]
    calls = []
    real = triage.signature_of

    def counted(text, **kwargs):
        calls.append(text)
        return real(text, **kwargs)

    monkeypatch.setattr(triage, "signature_of", counted)
    monkeypatch.setattr(analysis, "signature_of", counted)
    with django_capture_on_commit_callbacks(execute=True):
        assert failures_triage(run_ids=[run.pk for run in runs]) == 3

    assert sorted(calls) == sorted(run.error_message for run in runs)
