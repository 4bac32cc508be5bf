"""The incident list's filters, search, sorts and pages, read from the query string, and its query count whatever
they are."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from aimsweb.choices import ErrorCategory, Severity
from incidents.models import Incident
from tests.incidents.factories import make_incident
from tests.incidents.incident_list_helpers import ago, page, row_ids
from tests.monitors.factories import make_connection, make_pipeline, make_run

# --- Filters ------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_incident_list_default_open_only_newest_first(viewer_client):
    older = make_incident(last_seen_at=ago(30))
    newer = make_incident(last_seen_at=ago(5), status=Incident.Status.ACKNOWLEDGED)
    resolved = make_incident(last_seen_at=ago(1), status=Incident.Status.RESOLVED)

    html = page(viewer_client)

    assert row_ids(html) == [newer.pk, older.pk]
    assert f'id="incident-{resolved.pk}"' not in html
    assert '<strong data-testid="total">2</strong> open incidents' in html


@pytest.mark.django_db
@pytest.mark.parametrize("status", ["triggered", "acknowledged", "resolved", "silenced"])
def test_incident_list_status_filter_shows_that_status_only(viewer_client, status):
    incidents = {value: make_incident(status=value) for value in Incident.Status.values}

    assert row_ids(page(viewer_client, f"status={status}")) == [incidents[status].pk]


@pytest.mark.django_db
def test_incident_list_status_all_includes_resolved(viewer_client):
    open_one = make_incident(last_seen_at=ago(2))
    resolved = make_incident(last_seen_at=ago(1), status=Incident.Status.RESOLVED)

    assert row_ids(page(viewer_client, "status=all")) == [resolved.pk, open_one.pk]


@pytest.mark.django_db
def test_incident_list_severity_filter_takes_several(viewer_client):
    critical = make_incident(severity=Severity.CRITICAL, last_seen_at=ago(1))
    high = make_incident(severity=Severity.HIGH, last_seen_at=ago(2))
    make_incident(severity=Severity.MEDIUM)
    make_incident(severity=Severity.LOW)

    assert row_ids(page(viewer_client, "severity=critical&severity=high")) == [critical.pk, high.pk]
    assert row_ids(page(viewer_client, "status=open&severity=high")) == [high.pk]  # the dashboard's link


@pytest.mark.django_db
def test_incident_list_category_filter_takes_several(viewer_client):
    code = make_incident(category=ErrorCategory.CODE, last_seen_at=ago(1))
    permission = make_incident(category=ErrorCategory.PERMISSION, last_seen_at=ago(2))
    make_incident(category=ErrorCategory.TRANSIENT)

    assert row_ids(page(viewer_client, "category=code&category=permission")) == [code.pk, permission.pk]


@pytest.mark.django_db
def test_incident_list_connection_and_pipeline_filters(viewer_client):
    databricks = make_connection(name="dbx-prod")
    orders = make_pipeline(databricks, name="orders_nightly")
    on_orders = make_incident(make_run(orders))
    on_databricks = make_incident(make_run(make_pipeline(databricks)))
    make_incident()

    assert set(row_ids(page(viewer_client, f"connection={databricks.pk}"))) == {on_orders.pk, on_databricks.pk}
    assert row_ids(page(viewer_client, f"pipeline={orders.pk}")) == [on_orders.pk]


@pytest.mark.django_db
def test_incident_list_assignee_me_none_and_person(viewer, viewer_client, responder):
    mine = make_incident(assignee=viewer)
    theirs = make_incident(assignee=responder)
    nobodys = make_incident()

    assert row_ids(page(viewer_client, "assignee=me")) == [mine.pk]
    assert row_ids(page(viewer_client, "assignee=none")) == [nobodys.pk]
    assert row_ids(page(viewer_client, f"assignee={responder.pk}")) == [theirs.pk]


@pytest.mark.django_db
def test_incident_list_search_matches_title_case_insensitively(viewer_client):
    match = make_incident(title="orders_nightly: Deadlock victim")
    make_incident(title="sales_hourly: source timed out")

    assert row_ids(page(viewer_client, "q=DEADLOCK")) == [match.pk]


@pytest.mark.django_db
def test_incident_list_search_matches_latest_run_error_message(viewer_client):
    run = make_run(error_message="java.lang.OutOfMemoryError: GC overhead limit exceeded")
    match = make_incident(run, title="orders_nightly: driver died")
    make_incident(title="sales_hourly: source timed out")

    html = page(viewer_client, "q=outofmemoryerror")

    assert row_ids(html) == [match.pk]  # found by its run's error, which the list no longer repeats under the title
    assert "GC overhead limit exceeded" not in html


@pytest.mark.django_db
def test_incident_list_invalid_filters_reported_and_ignored(viewer_client):
    shown = make_incident()
    query = (
        "status=closed&severity=urgent&category=cosmic&connection=999999&pipeline=abc&assignee=somebody"
        "&sort=sideways&page=two&q=" + "x" * 201
    )

    html = page(viewer_client, query)

    assert row_ids(html) == [shown.pk]
    for message in (
        "Status: Unknown status “closed”",
        "Severity: Unknown severity “urgent”",
        "Error class: Unknown error class “cosmic”",
        "Connection: No connection with id “999999”",
        "Pipeline: No pipeline with id “abc”",
        "Assignee: Unknown assignee “somebody”",
        "Sort: Unknown sort “sideways”",
        "Page: give a page number",
        "Search: At most 200 characters (201 given).",
    ):
        assert message in html
    assert 'ws-connect="/ws/incidents/"' in html  # the ignored filters are not carried on


@pytest.mark.django_db
def test_incident_list_huge_id_in_filter_reported_not_500(viewer_client):
    make_incident()

    html = page(viewer_client, "pipeline=99999999999999999999999&assignee=99999999999999999999999")

    assert "Pipeline: No pipeline with id" in html and "Assignee: Unknown assignee" in html


# --- Sorts and pages ----------------------------------------------------------------------------------------------


@pytest.fixture
def sortable(db) -> dict[str, Incident]:
    """Three incidents whose order differs by every sort key."""
    return {
        "a": make_incident(
            last_seen_at=ago(1),
            opened_at=ago(300),
            severity=Severity.LOW,
            occurrence_count=7,
            status=Incident.Status.SILENCED,
        ),
        "b": make_incident(
            last_seen_at=ago(2),
            opened_at=ago(100),
            severity=Severity.CRITICAL,
            occurrence_count=2,
            status=Incident.Status.ACKNOWLEDGED,
        ),
        "c": make_incident(
            last_seen_at=ago(3),
            opened_at=ago(200),
            severity=Severity.MEDIUM,
            occurrence_count=40,
            status=Incident.Status.TRIGGERED,
        ),
    }


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("", "abc"),
        ("-last_seen", "abc"),
        ("last_seen", "cba"),
        ("-opened", "bca"),
        ("opened", "acb"),
        ("-severity", "bca"),
        ("severity", "acb"),
        ("-occurrences", "cab"),
        ("occurrences", "bac"),
        ("-status", "cba"),
        ("status", "abc"),
    ],
)
def test_incident_list_sort_orders_rows(viewer_client, sortable, sort, expected):
    html = page(viewer_client, f"sort={sort}")

    assert row_ids(html) == [sortable[key].pk for key in expected]


@pytest.mark.django_db
def test_incident_list_sort_header_flips_active_column_and_keeps_filters(viewer_client):
    make_incident(severity=Severity.HIGH)

    html = page(viewer_client, "severity=high&sort=-severity")

    assert 'aria-sort="descending"><a href="?severity=high&amp;sort=severity">Severity' in html
    assert 'href="?severity=high&amp;sort=-occurrences"' in html
    assert 'href="?severity=high">Last seen' in html  # the default sort is left out of the link


def _incidents(count: int, **fields) -> list[Incident]:
    """`count` incidents, the first one seen most recently."""
    run = make_run()
    now = timezone.now()
    return Incident.objects.bulk_create(
        Incident(
            fingerprint=f"bulk-{n}",
            title=f"{run.pipeline.name}: failure {n}",
            connection=run.connection,
            pipeline=run.pipeline,
            latest_run=run,
            first_seen_at=now,
            last_seen_at=now - timedelta(seconds=n),
            **fields,
        )
        for n in range(count)
    )


@pytest.mark.django_db
def test_incident_list_pages_by_fifty_with_total_and_links(viewer_client):
    incidents = _incidents(55, severity=Severity.HIGH)

    first = page(viewer_client, "severity=high")
    second = page(viewer_client, "severity=high&page=2")

    assert row_ids(first) == [incident.pk for incident in incidents[:50]]
    assert row_ids(second) == [incident.pk for incident in incidents[50:]]
    assert '<strong data-testid="total">55</strong> open incidents matching' in first
    assert "page 1 of 2" in first and "page 2 of 2" in second
    assert '<a href="?severity=high&amp;page=2" rel="next">' in first
    assert '<a href="?severity=high" rel="prev">' in second
    assert 'ws-connect="/ws/incidents/?severity=high&amp;page=2"' in second


@pytest.mark.django_db
@pytest.mark.parametrize(("requested", "shown"), [("9", 2), ("0", 1), ("-3", 1)])
def test_incident_list_page_out_of_range_clamped(viewer_client, requested, shown):
    incidents = _incidents(51)

    html = page(viewer_client, f"page={requested}")

    assert row_ids(html)[0] == incidents[50 * (shown - 1)].pk
    assert f"page {shown} of 2" in html


@pytest.mark.django_db
def test_incident_list_total_counts_all_matches_not_the_page(viewer_client):
    _incidents(120)
    _incidents(3, status=Incident.Status.RESOLVED)

    html = page(viewer_client, "status=all")

    assert '<strong data-testid="total">123</strong> incidents' in html
    assert len(row_ids(html)) == 50
    assert re.search(r"Triggered <strong>120</strong>", html)


# --- Query count --------------------------------------------------------------------------------------------------


def _queries(client: Client, query: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        page(client, query)
    return len(queries)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "mine"),
    [
        ("", False),
        ("status=all&sort=-severity", False),
        ("severity=high&category=transient&assignee=none&q=TIMED&sort=-occurrences&page=2", False),
        ("status=triggered&assignee=me&q=NIGHTLY", True),
    ],
)
def test_incident_list_query_count_constant(responder, responder_client, query, mine):
    assignee = responder if mine else None
    make_incident(assignee=assignee)
    assert len(row_ids(page(responder_client, query))) == 1
    with_one = _queries(responder_client, query)
    # All matching the filters: the search hits their latest run's error ("nightly source timed out").
    _incidents(60, severity=Severity.HIGH, category=ErrorCategory.TRANSIENT, assignee=assignee)

    html = page(responder_client, query)
    assert len(row_ids(html)) >= 11
    assert _queries(responder_client, query) == with_one
