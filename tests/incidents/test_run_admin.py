"""A run's admin page: monitors registers it, incidents adds the run's analysis above its retry attempts."""

import pytest

from tests.incidents.factories import make_analysis
from tests.monitors.factories import make_retry_attempt, make_run


@pytest.mark.django_db
def test_run_admin_page_shows_analysis_then_retry_attempts(admin_client_):
    run = make_run(status="Failed")
    make_analysis(run, summary="Source timed out while reading")
    make_retry_attempt(run)

    response = admin_client_.get(f"/admin/monitors/pipelinerun/{run.pk}/change/")

    assert response.status_code == 200
    models = [inline.formset.model.__name__ for inline in response.context["inline_admin_formsets"]]
    assert models == ["FailureAnalysis", "RetryAttempt"]
    assert "Source timed out while reading" in response.content.decode()
