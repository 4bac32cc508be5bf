"""The incident page's past incidents with the same signature (and how the last was resolved), the signature's
statistics and related open incidents, in a fixed number of queries."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from aimsweb.choices import ErrorCategory
from incidents.models import Incident, IncidentEvent, SignatureStats
from incidents.selectors import incident_context
from tests.incidents.factories import make_analysis, make_incident
from tests.monitors.factories import make_connection, make_pipeline, make_run

pytestmark = pytest.mark.django_db

SIGNATURE = "a" * 64


def _incident_with_signature(pipeline, *, signature=SIGNATURE, resolved_after=None, **fields):
    run = make_run(pipeline=pipeline)
    incident = make_incident(run, **fields)
    incident.analysis = make_analysis(run, signature=signature, incident=incident)
    if resolved_after is not None:
        incident.status = Incident.Status.RESOLVED
        incident.resolved_at = incident.opened_at + resolved_after
    incident.save()
    return incident


def _resolve_event(incident, *, user=None, note="", kind=IncidentEvent.Kind.RESOLVED, at=None, **extra):
    event = IncidentEvent.objects.create(incident=incident, kind=kind, actor_user=user, note=note, **extra)
    if at is not None:
        IncidentEvent.objects.filter(pk=event.pk).update(created_at=at)
    return event


@pytest.fixture
def history(make_user):
    conn = make_connection()
    sales, orders = make_pipeline(conn, name="sales_daily"), make_pipeline(conn, name="orders_hourly")
    grace = make_user("grace")
    now = timezone.now()
    past = [
        _incident_with_signature(sales, resolved_after=timedelta(minutes=minutes))
        for minutes in (10, 20, 30)  # median 20 min
    ]
    past.append(_incident_with_signature(orders, resolved_after=timedelta(hours=5)))  # median of 4: 25 min
    _resolve_event(past[0], kind=IncidentEvent.Kind.AUTO_RESOLVED, at=now - timedelta(days=3))
    _resolve_event(past[3], user=grace, note="Restarted the <b>IR</b> node; " + "x" * 300, at=now - timedelta(hours=2))
    current = _incident_with_signature(sales)
    SignatureStats.objects.create(signature=SIGNATURE, failures=10, retries=4, retry_successes=3)
    return {"conn": conn, "sales": sales, "orders": orders, "past": past, "current": current, "grace": grace}


def test_incident_context_past_and_last_resolution(history):
    context = incident_context(incident=history["current"])

    assert context.past_count == 4
    assert {incident.pk for incident in context.past} == {incident.pk for incident in history["past"]}
    assert context.last_resolution is not None
    assert context.last_resolution.by == "grace"
    assert context.last_resolution.incident == history["past"][3]
    assert context.last_resolution.note.startswith("Restarted the <b>IR</b> node")


def test_incident_context_signature_facts(history):
    facts = incident_context(incident=history["current"]).facts

    assert facts is not None
    assert (facts.failures_7d, facts.failures_30d) == (5, 5)
    assert facts.pipelines == ["orders_hourly", "sales_daily"]
    assert facts.median_resolve == timedelta(minutes=25)
    assert (facts.failures, facts.retry_recoveries) == (10, 3)
    assert incident_context(incident=history["current"]).recovered_share == 30


def test_incident_page_past_summary_escaped_and_truncated(viewer_client, history):
    html = viewer_client.get(f"/incidents/{history['current'].pk}/").content.decode()

    assert "4 earlier incidents with this signature, last resolved by <strong>grace</strong>" in html
    assert "Restarted the &lt;b&gt;IR&lt;/b&gt; node" in html
    assert "x" * 250 not in html  # truncated
    for past in history["past"]:
        assert f'href="/incidents/{past.pk}/"' in html
    assert "25 min" in html and "30%" in html


def test_incident_context_related_open_incidents(history):
    conn, current = history["conn"], history["current"]
    same_pipeline = make_incident(make_run(pipeline=history["sales"]), category=ErrorCategory.CODE)
    same_class = make_incident(make_run(pipeline=history["orders"]), category=current.category)
    other_class = make_incident(make_run(pipeline=history["orders"]), category=ErrorCategory.CODE)
    elsewhere = make_incident(make_run(pipeline=make_pipeline(make_connection())), category=current.category)
    closed = make_incident(make_run(pipeline=history["sales"]), status=Incident.Status.RESOLVED)
    assert conn.pk == current.connection_id

    related = {incident.pk for incident in incident_context(incident=current).related}

    assert {same_pipeline.pk, same_class.pk} <= related
    assert not related & {other_class.pk, elsewhere.pk, closed.pk, current.pk}


def test_incident_context_no_signature_no_past(viewer_client):
    incident = make_incident()
    context = incident_context(incident=incident)
    assert (context.signature, context.past, context.facts) == ("", [], None)
    assert viewer_client.get(f"/incidents/{incident.pk}/").status_code == 200


def test_incident_page_context_fixed_queries(viewer_client, history):
    current = history["current"]

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert viewer_client.get(f"/incidents/{current.pk}/").status_code == 200
        return len(captured)

    queries()
    few = queries()
    for n in range(5):
        past = _incident_with_signature(make_pipeline(history["conn"], name=f"p{n}"), resolved_after=timedelta(hours=1))
        _resolve_event(past, user=history["grace"], note=f"fixed {n}")
        make_incident(make_run(pipeline=history["sales"]))  # related
    assert queries() == few
