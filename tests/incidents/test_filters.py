"""The incident list's filters as one typed object: built from the list's form (a bad value is a message naming the
field, never a 500, and leaves that filter at its default) and what the selectors select with it."""

import pytest
from django.http import QueryDict

from aimsweb.choices import ErrorCategory, Severity
from aimsweb.roles import Role
from incidents.filters import DEFAULT_SORT, DEFAULT_STATUS, IncidentFilters
from incidents.list_forms import IncidentFilterForm
from incidents.models import Incident
from incidents.selectors import incident_list, incident_open_counts
from tests.incidents.factories import make_incident
from tests.monitors.factories import make_connection, make_pipeline, make_run


def filters_of(query: str) -> tuple[IncidentFilters, dict[str, list[str]]]:
    form = IncidentFilterForm(data=QueryDict(query))
    form.is_valid()
    return form.filters(), form.errors


@pytest.mark.django_db
def test_incident_filters_blank_form_gives_the_defaults():
    filters, errors = filters_of("")

    assert errors == {}
    assert filters == IncidentFilters()
    assert (filters.status, filters.sort, filters.page) == (DEFAULT_STATUS, DEFAULT_SORT, 1)


@pytest.mark.django_db
def test_incident_filters_form_data_typed(make_user):
    pipeline = make_pipeline()
    person = make_user("ana", Role.RESPONDER)
    query = (
        f"status=acknowledged&severity=critical&severity=high&category=transient&connection={pipeline.connection_id}"
        f"&pipeline={pipeline.pk}&assignee={person.pk}&q=+timeout+&sort=severity&page=3"
    )

    filters, errors = filters_of(query)

    assert errors == {}
    assert filters == IncidentFilters(
        status="acknowledged",
        severities=("critical", "high"),
        categories=("transient",),
        connection_id=pipeline.connection_id,
        pipeline_id=pipeline.pk,
        assignee=person.pk,
        text="timeout",
        sort="severity",
        page=3,
    )
    assert (filters.sort_column, filters.sort_descending) == ("severity", False)


@pytest.mark.django_db
@pytest.mark.parametrize("assignee", ["me", "none"])
def test_incident_filters_assignee_me_or_nobody_kept_as_words(assignee):
    filters, errors = filters_of(f"assignee={assignee}")

    assert errors == {} and filters.assignee == assignee


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("status=closed", "status", "Unknown status “closed”"),
        ("severity=urgent", "severity", "Unknown severity “urgent”"),
        ("category=cosmic", "category", "Unknown error class “cosmic”"),
        ("connection=abc", "connection", "choose one from the list"),
        ("connection=999999", "connection", "No connection with id “999999”"),
        ("pipeline=-1", "pipeline", "choose one from the list"),
        ("assignee=somebody", "assignee", "Unknown assignee “somebody”"),
        ("assignee=99999999999999999999", "assignee", "Unknown assignee"),
        ("sort=-colour", "sort", "Unknown sort “-colour”"),
        ("page=two", "page", "give a page number"),
        ("q=" + "x" * 201, "q", "At most 200 characters (201 given)"),
    ],
)
def test_incident_filters_bad_value_named_and_left_at_default(query, field, message):
    filters, errors = filters_of(query)

    assert list(errors) == [field]
    assert message in " ".join(errors[field])
    assert filters == IncidentFilters()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "problem"),
    [
        ("status=closed&sort=nope&page=x", "Status: Unknown status “closed”"),
        ("connection=1e9&pipeline=%00", "Connection: "),
        ("assignee=%F0%9F%92%A5&severity=high&severity=loud", "Severity: Unknown severity “loud”"),
        ("page=99999999999999999999999", ""),
    ],
)
def test_incident_list_bad_filters_answer_200_with_the_message(viewer_client, query, problem):
    make_incident()

    response = viewer_client.get(f"/incidents/?{query}")

    assert response.status_code == 200
    assert problem in response.content.decode()


@pytest.mark.django_db
def test_incident_list_selects_by_every_filter_and_counts_open_statuses(make_user):
    me = make_user("me", Role.RESPONDER)
    pipeline = make_pipeline(make_connection())
    run = make_run(pipeline)
    wanted = make_incident(run, severity=Severity.CRITICAL, category=ErrorCategory.RESOURCE, assignee=me)
    make_incident(run, severity=Severity.LOW, category=ErrorCategory.RESOURCE, assignee=me)  # another severity
    make_incident(severity=Severity.CRITICAL, category=ErrorCategory.RESOURCE, assignee=me)  # another pipeline
    make_incident(run, severity=Severity.CRITICAL, category=ErrorCategory.RESOURCE)  # nobody's
    acknowledged = make_incident(
        run, severity=Severity.CRITICAL, category=ErrorCategory.RESOURCE, assignee=me, status="acknowledged"
    )
    make_incident(run, severity=Severity.CRITICAL, category=ErrorCategory.RESOURCE, assignee=me, status="resolved")
    filters = IncidentFilters(
        severities=("critical",),
        categories=("resource",),
        connection_id=pipeline.connection_id,
        pipeline_id=pipeline.pk,
        assignee="me",
        text=wanted.title[:12],
        sort="opened",
    )

    assert list(incident_list(filters=filters, user_id=me.pk)) == [wanted, acknowledged]
    assert incident_open_counts(filters=filters, user_id=me.pk) == {
        Incident.Status.TRIGGERED: 1,
        Incident.Status.ACKNOWLEDGED: 1,
        Incident.Status.SILENCED: 0,
    }
    assert list(
        incident_list(filters=IncidentFilters(status="resolved"), user_id=me.pk).values_list("status", flat=True)
    ) == ["resolved"]
