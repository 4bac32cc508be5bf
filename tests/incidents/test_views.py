import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.incidents.factories import make_incident


def _queries_for_list(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/incidents/")
    assert response.status_code == 200
    return len(queries)


@pytest.mark.django_db
def test_incident_list_empty_explains(viewer_client):
    html = viewer_client.get("/incidents/").content.decode()

    assert "No open incidents." in html
    assert 'ws-connect="/ws/incidents/"' in html


@pytest.mark.django_db
def test_incident_list_shows_incidents_newest_first(viewer_client):
    older = make_incident(title="older failure")
    newer = make_incident(title="newer failure")

    html = viewer_client.get("/incidents/").content.decode()

    assert html.index(f'id="incident-{newer.pk}"') < html.index(f'id="incident-{older.pk}"')
    assert "newer failure" in html and "older failure" in html


@pytest.mark.django_db
def test_incident_list_query_count_constant(viewer_client, responder):
    make_incident()
    with_one = _queries_for_list(viewer_client)
    for _ in range(5):
        make_incident(assignee=responder)

    assert _queries_for_list(viewer_client) == with_one


@pytest.mark.django_db
def test_incident_list_htmx_request_gets_results_only(viewer_client):
    make_incident(title="partial please")

    html = viewer_client.get("/incidents/", headers={"HX-Request": "true"}).content.decode()

    assert html.lstrip().startswith('<div id="incident-results"')
    assert '<tbody id="incident-rows" data-shortcut-rows>' in html
    assert "partial please" in html and "<html" not in html and 'id="incident-filters"' not in html


@pytest.mark.django_db
def test_incident_list_rows_link_to_detail_page(viewer_client):
    incident = make_incident(title="linked failure")

    html = viewer_client.get("/incidents/", headers={"HX-Request": "true"}).content.decode()

    assert f'<a href="/incidents/{incident.pk}/" data-row-link>linked failure</a>' in html
