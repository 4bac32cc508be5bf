"""The incident list: filters, search, sorts and pages from the query string, bulk acknowledge / resolve, and the
live part a websocket pushes for the page's own filters."""

import re
from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from aimsweb.asgi import application
from aimsweb.choices import ErrorCategory, Severity
from incidents.models import Incident, IncidentEvent
from incidents.realtime import incidents_changed_broadcast
from incidents.services import Actor, incidents_bulk_act
from tests.incidents.factories import make_incident
from tests.monitors.factories import make_connection, make_pipeline, make_run

URL = "/incidents/"
BULK = "/incidents/bulk/"
HTMX = {"HX-Request": "true"}


def row_ids(html: str) -> list[int]:
    """The incidents listed, in order."""
    return [int(pk) for pk in re.findall(r'<tr id="incident-(\d+)"', html)]


def page(client: Client, query: str = "", **headers) -> str:
    response = client.get(f"{URL}?{query}" if query else URL, headers=headers)
    assert response.status_code == 200
    return response.content.decode()


def ago(minutes: int):
    return timezone.now() - timedelta(minutes=minutes)


def statuses(*incidents: Incident) -> list[str]:
    return [Incident.objects.get(pk=incident.pk).status for incident in incidents]


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

    assert row_ids(html) == [match.pk]
    assert "GC overhead limit exceeded" in html  # the error line under the title shows why it matched


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


# --- Page shape ---------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_incident_list_escapes_title_and_error(viewer_client):
    run = make_run(error_message="<img src=x onerror=alert(2)>")
    make_incident(run, title="<script>alert(1)</script>")

    html = page(viewer_client)

    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img src=x" not in html


@pytest.mark.django_db
def test_incident_list_page_and_live_part_leak_no_template_syntax(responder, responder_client):
    make_incident()

    html = page(responder_client)

    assert "{#" not in html and "{%" not in html and "{{" not in html


@pytest.mark.django_db
def test_incident_list_row_links_not_boosted_but_sort_and_page_links_are(viewer_client):
    # A boosted link to an incident would get the incident page's partial in place of the whole page.
    make_incident()

    html = page(viewer_client)

    assert '<table class="list incident-table">' in html and '<tbody id="incident-rows">' in html
    assert (
        '<thead id="incident-head" hx-boost="true">' in html and '<tfoot id="incident-pages" hx-boost="true">' in html
    )


@pytest.mark.django_db
def test_incident_list_htmx_filter_returns_results_partial_and_canonical_url(viewer_client):
    make_incident(title="partial please", severity=Severity.HIGH)

    response = viewer_client.get(f"{URL}?q=partial&status=open&severity=high&connection=&sort=-last_seen", headers=HTMX)
    html = response.content.decode()

    assert html.lstrip().startswith('<div id="incident-results"') and "<html" not in html
    assert "partial please" in html and 'id="incident-filters"' not in html
    assert response["HX-Push-Url"] == "/incidents/?severity=high&q=partial"


@pytest.mark.django_db
def test_incident_list_boosted_link_gets_whole_page(viewer_client):
    html = page(viewer_client, "sort=-severity", **HTMX, **{"HX-Boosted": "true"})

    assert "<html" in html and 'id="incident-filters"' in html


@pytest.mark.django_db
def test_incident_list_viewer_gets_no_checkboxes_or_bulk_buttons(viewer_client):
    incident = make_incident()

    html = page(viewer_client)

    assert f'id="pick-{incident.pk}"' not in html and 'id="incident-bulk"' not in html


@pytest.mark.django_db
def test_incident_list_responder_gets_checkboxes_and_bulk_buttons(responder_client):
    incident = make_incident()

    html = page(responder_client, "severity=high")

    assert f'name="ids" value="{incident.pk}" form="incident-bulk" id="pick-{incident.pk}"' in html
    assert 'id="incident-select-all"' in html
    assert 'value="acknowledge">Acknowledge</button>' in html and 'value="resolve"' in html
    assert '<input type="hidden" name="next" value="/incidents/?severity=high">' in html


@pytest.mark.django_db
def test_incident_list_anonymous_redirected_to_login(client):
    response = client.get(URL)

    assert response.status_code == 302 and "/login" in response["Location"]


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


@pytest.mark.django_db
def test_incident_list_row_shows_what_changed_since_it_was_last_rendered(viewer_client, responder_client):
    """Rows are rendered once and kept (keyed by what they show): every change a row shows renders it again."""
    incident = make_incident(last_seen_at=ago(3))
    row = re.compile(rf'<tr id="incident-{incident.pk}">.*?</tr>', re.S)
    assert "3\xa0minutes ago" in row.search(page(viewer_client)).group()
    assert 'name="ids"' in row.search(page(responder_client)).group()  # the same row, with a Responder's checkbox
    assert 'name="ids"' not in row.search(page(viewer_client)).group()

    incident.pipeline.name = "renamed_pipeline"
    incident.pipeline.save()
    assert "renamed_pipeline" in row.search(page(viewer_client)).group()

    run = incident.latest_run
    run.error_message = "a sharper error from the run's detail"
    run.save()
    assert "a sharper error" in row.search(page(viewer_client)).group()

    incident.status = Incident.Status.ACKNOWLEDGED
    incident.save()
    assert "Acknowledged" in row.search(page(viewer_client)).group()

    Incident.objects.filter(pk=incident.pk).update(last_seen_at=ago(30), updated_at=ago(0))
    assert "30\xa0minutes ago" in row.search(page(viewer_client)).group()


# --- Bulk actions -------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_incident_bulk_acknowledge_records_events_by_the_responder(responder, responder_client):
    first, second, third = make_incident(), make_incident(), make_incident(status=Incident.Status.SILENCED)

    response = responder_client.post(
        BULK, {"action": "acknowledge", "ids": [first.pk, second.pk, third.pk], "next": "/incidents/"}
    )

    assert response.status_code == 303
    assert statuses(first, second, third) == ["acknowledged"] * 3
    events = IncidentEvent.objects.filter(kind=IncidentEvent.Kind.ACKNOWLEDGED)
    assert sorted(events.values_list("incident_id", flat=True)) == sorted([first.pk, second.pk, third.pk])
    assert set(events.values_list("actor_user", flat=True)) == {responder.pk}


@pytest.mark.django_db
def test_incident_bulk_acknowledge_skips_resolved_and_reports(responder_client):
    triggered = [make_incident(), make_incident(), make_incident()]
    resolved = make_incident(status=Incident.Status.RESOLVED)

    response = responder_client.post(
        BULK,
        {"action": "acknowledge", "ids": [i.pk for i in [*triggered, resolved]], "next": "/incidents/?status=all"},
        follow=True,
    )

    assert "Acknowledged 3, skipped 1 (already resolved)." in response.content.decode()
    assert statuses(*triggered, resolved) == ["acknowledged"] * 3 + ["resolved"]
    assert not resolved.events.filter(kind=IncidentEvent.Kind.ACKNOWLEDGED).exists()


@pytest.mark.django_db
def test_incident_bulk_resolve_records_events_and_skips_resolved(responder, responder_client):
    triggered, acknowledged = make_incident(), make_incident(status=Incident.Status.ACKNOWLEDGED)
    resolved = make_incident(status=Incident.Status.RESOLVED)

    response = responder_client.post(
        BULK, {"action": "resolve", "ids": [triggered.pk, acknowledged.pk, resolved.pk]}, follow=True
    )

    assert "Resolved 2, skipped 1 (already resolved)." in response.content.decode()
    assert statuses(triggered, acknowledged, resolved) == ["resolved"] * 3
    events = IncidentEvent.objects.filter(kind=IncidentEvent.Kind.RESOLVED)
    assert sorted(events.values_list("incident_id", flat=True)) == sorted([triggered.pk, acknowledged.pk])
    assert set(events.values_list("actor_user", flat=True)) == {responder.pk}


@pytest.mark.django_db
def test_incident_bulk_plain_post_redirects_to_the_same_filters(responder_client):
    incident = make_incident(severity=Severity.HIGH)
    back = "/incidents/?severity=high&sort=-severity&page=1"

    response = responder_client.post(BULK, {"action": "acknowledge", "ids": [incident.pk], "next": back})

    assert response.status_code == 303 and response["Location"] == back


@pytest.mark.django_db
@pytest.mark.parametrize("next_url", ["https://evil.example/incidents/", "//evil.example/", "javascript:alert(1)"])
def test_incident_bulk_foreign_next_redirects_to_the_list(responder_client, next_url):
    incident = make_incident()

    response = responder_client.post(BULK, {"action": "acknowledge", "ids": [incident.pk], "next": next_url})

    assert response.status_code == 303 and response["Location"] == "/incidents/"


@pytest.mark.django_db
def test_incident_bulk_htmx_returns_results_with_outcome_for_the_same_filters(responder_client):
    high = make_incident(severity=Severity.HIGH, title="high one")
    make_incident(severity=Severity.LOW, title="low one")

    response = responder_client.post(
        BULK, {"action": "acknowledge", "ids": [high.pk], "next": "/incidents/?severity=high"}, headers=HTMX
    )
    html = response.content.decode()

    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="incident-results"') and "<html" not in html
    assert "Acknowledged 1." in html
    assert row_ids(html) == [high.pk] and "low one" not in html
    assert re.search(rf'<tr id="incident-{high.pk}">.*?status-acknowledged', html, re.S)


@pytest.mark.django_db
def test_incident_bulk_viewer_forged_post_forbidden_and_unchanged(viewer_client):
    incident = make_incident()

    for action in ("acknowledge", "resolve", "delete"):
        response = viewer_client.post(BULK, {"action": action, "ids": [incident.pk]})
        assert response.status_code == 403
    assert statuses(incident) == ["triggered"]
    assert list(incident.events.values_list("kind", flat=True)) == ["opened"]


@pytest.mark.django_db
def test_incident_bulk_permission_checked_per_action(make_user):
    from django.contrib.auth.models import Permission

    acknowledger = make_user("ack-only")
    acknowledger.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_incident", "acknowledge_incident"])
    )
    client = Client()
    client.force_login(acknowledger)
    incident = make_incident()

    assert client.post(BULK, {"action": "resolve", "ids": [incident.pk]}).status_code == 403
    assert statuses(incident) == ["triggered"]
    assert client.post(BULK, {"action": "acknowledge", "ids": [incident.pk]}).status_code == 303
    assert statuses(incident) == ["acknowledged"]


@pytest.mark.django_db
def test_incident_bulk_more_than_500_ids_rejected_naming_the_field(responder_client):
    incident = make_incident()

    response = responder_client.post(
        BULK, {"action": "resolve", "ids": [incident.pk] + list(range(10**6, 10**6 + 500))}
    )

    assert response.status_code == 400
    assert "Selected incidents (ids): Select at most 500 incidents at a time (501 sent)." in response.content.decode()
    assert statuses(incident) == ["triggered"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"action": "acknowledge"}, "Selected incidents (ids): Select at least one incident."),
        ({"action": "acknowledge", "ids": ["1", "x1"]}, "Selected incidents (ids): “x1” is not an incident number."),
        ({"action": "delete", "ids": ["1"]}, "Action: Unknown action “delete”; use acknowledge or resolve."),
    ],
)
def test_incident_bulk_bad_input_400_naming_the_field(responder_client, data, message):
    response = responder_client.post(BULK, data, headers=HTMX)

    assert response.status_code == 400
    assert message in response.content.decode()


@pytest.mark.django_db
def test_incident_bulk_get_not_allowed(responder_client):
    assert responder_client.get(BULK).status_code == 405


@pytest.mark.django_db
def test_incidents_bulk_act_counts_done_and_skipped_with_reasons(responder):
    triggered = make_incident()
    acknowledged = make_incident(status=Incident.Status.ACKNOWLEDGED)
    resolved = make_incident(status=Incident.Status.RESOLVED)

    result = incidents_bulk_act(
        incident_ids=[triggered.pk, acknowledged.pk, resolved.pk, triggered.pk, 10**9],
        action="acknowledge",
        actor=Actor.of_user(responder),
    )

    assert result == {
        "done": 1,
        "skipped": 3,
        "reasons": {"already acknowledged": 1, "already resolved": 1, "not found": 1},
    }
    assert statuses(triggered) == ["acknowledged"]


@pytest.mark.django_db
def test_incidents_bulk_act_refuses_unknown_action_and_too_many(responder):
    incident = make_incident()
    actor = Actor.of_user(responder)

    with pytest.raises(ValidationError) as unknown:
        incidents_bulk_act(incident_ids=[incident.pk], action="delete", actor=actor)
    with pytest.raises(ValidationError) as too_many:
        incidents_bulk_act(incident_ids=list(range(1, 502)), action="resolve", actor=actor)

    assert "action" in unknown.value.message_dict and "ids" in too_many.value.message_dict
    assert statuses(incident) == ["triggered"]


# --- Live updates -------------------------------------------------------------------------------------------------


def _session_cookie(user) -> bytes:
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}".encode()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_ws_incidents_pushes_live_part_for_the_page_filters(responder):
    cookie = _session_cookie(responder)
    high = make_incident(severity=Severity.HIGH, title="high one")
    make_incident(severity=Severity.LOW, title="low one")

    def acknowledge_and_broadcast() -> None:
        with transaction.atomic():
            Incident.objects.filter(pk=high.pk).update(status=Incident.Status.ACKNOWLEDGED)
            incidents_changed_broadcast(incident_ids=[high.pk])

    async def scenario():
        communicator = WebsocketCommunicator(
            application,
            "/ws/incidents/?severity=high",
            headers=[(b"origin", b"http://127.0.0.1:8000"), (b"cookie", cookie)],
        )
        connected, _ = await communicator.connect()
        caught_up = await communicator.receive_from(timeout=5)
        await database_sync_to_async(acknowledge_and_broadcast)()
        message = await communicator.receive_from(timeout=5)
        await communicator.disconnect()
        return connected, caught_up, message

    connected, caught_up, html = async_to_sync(scenario)()

    assert connected is True
    assert row_ids(caught_up) == [high.pk] and "Acknowledged <strong>0</strong>" in caught_up
    assert row_ids(html) == [high.pk] and "low one" not in html
    for element in ("caption", "thead", "tbody", "tfoot"):
        assert re.search(rf'<{element} id="incident-[a-z]+"( hx-boost="true")? hx-swap-oob="true"', html)
    # The counters moved, and the ticked boxes survive the swap.
    assert "Acknowledged <strong>1</strong>" in html
    assert f'id="pick-{high.pk}" aria-label="Select incident #{high.pk}" hx-preserve' in html
    assert html.lstrip().startswith("<caption")  # table parts first, so the browser parses them as such
