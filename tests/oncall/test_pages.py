"""The schedule pages (read by every role, edited only by Admins in the admin), the header's "On call: …", the
incident page's on-call line, a person's own contact methods, and query counts that do not grow with schedules."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from aimsweb.roles import Role
from incidents.models import EscalationStep, NotificationChannel, NotificationRoute
from oncall.admin import OverrideForm, RotationMemberForm
from oncall.models import ContactMethod, Override, Schedule
from tests.incidents.factories import make_incident
from tests.oncall.factories import make_schedule


@pytest.fixture
def alice(make_user):
    return make_user("alice", Role.RESPONDER)


@pytest.mark.django_db
def test_schedule_pages_viewer_reads_who_is_on_call_now_and_the_shifts(viewer_client, alice):
    schedule = make_schedule(alice)
    listing = viewer_client.get(reverse("oncall:list"))
    assert listing.status_code == 200
    assert b"<strong>alice</strong>" in listing.content and b"Edit schedules" not in listing.content
    detail = viewer_client.get(reverse("oncall:detail", args=[schedule.pk]))
    assert detail.status_code == 200 and b"Shifts, next 14 days" in detail.content
    assert b"Edit this schedule" not in detail.content
    assert viewer_client.get(reverse("oncall:detail", args=[schedule.pk + 99])).status_code == 404


@pytest.mark.django_db
def test_schedule_admin_viewer_cannot_edit_and_admin_can(viewer_client, admin_client_, alice):
    schedule = make_schedule(alice)
    change = reverse("admin:oncall_schedule_change", args=[schedule.pk])
    response = viewer_client.post(change, {"name": "Hacked", "time_zone": "UTC"})
    assert response.status_code in (302, 403)
    assert Schedule.objects.get(pk=schedule.pk).name == "Primary"
    assert admin_client_.get(change).status_code == 200
    assert b"Edit schedules" in admin_client_.get(reverse("oncall:list")).content


@pytest.mark.django_db
def test_schedule_admin_participants_must_be_responders(viewer, alice):
    schedule = make_schedule()
    rotation = schedule.rotations.create(name="Main", starts_at=timezone.now())
    refused = RotationMemberForm(data={"position": 0, "user": viewer.pk, "rotation": rotation.pk})
    assert not refused.is_valid() and "Responder role" in str(refused.errors["user"])
    assert RotationMemberForm(data={"position": 0, "user": alice.pk}).is_valid()
    now = timezone.now()
    backwards = OverrideForm(
        data={"user": alice.pk, "starts_at": now, "ends_at": now - timedelta(hours=1), "reason": ""},
        instance=Override(schedule=schedule),
    )
    assert not backwards.is_valid() and "after the start" in str(backwards.errors["ends_at"])


@pytest.mark.django_db
def test_schedule_time_zone_is_validated():
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="Unknown time zone"):
        Schedule(name="x", time_zone="Mars/Olympus").full_clean()


@pytest.mark.django_db
def test_header_shows_the_on_call_with_a_link(viewer_client, alice):
    make_schedule(alice)
    page = viewer_client.get(reverse("home")).content.decode()
    assert 'data-testid="oncall-header"' in page and "On call: <strong>alice</strong>" in page
    assert f'href="{reverse("oncall:list")}"' in page


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.mark.django_db
def test_query_counts_do_not_grow_with_schedules(viewer_client, make_user):
    people = [make_user(f"p{n}", Role.RESPONDER) for n in range(4)]
    make_schedule(*people[:2], name="Primary")
    incident = make_incident()
    urls = [reverse("oncall:list"), reverse("incidents:detail", args=[incident.pk]), reverse("home")]
    before = [_queries(viewer_client, url) for url in urls]
    for n in range(3):
        make_schedule(*people, name=f"Extra {n}")
    assert [_queries(viewer_client, url) for url in urls] == before


@pytest.mark.django_db
def test_incident_page_names_the_on_call_of_the_schedule_its_route_escalates_to(viewer_client, alice, make_user):
    bob = make_user("bob", Role.RESPONDER)
    make_schedule(alice, name="Primary")
    secondary = make_schedule(bob, name="Secondary")
    incident = make_incident()
    url = reverse("incidents:detail", args=[incident.pk])
    page = viewer_client.get(url).content.decode()
    assert "<strong>alice</strong> (Primary)" in page and "<strong>bob</strong> (Secondary)" in page
    channel = NotificationChannel.objects.create(name="mail", kind="email", recipients="ops@example.com")
    route = NotificationRoute.objects.create(name="all")
    route.channels.add(channel)
    EscalationStep.objects.create(route=route, after_minutes=5, oncall_schedule=secondary).channels.add(channel)
    page = viewer_client.get(url).content.decode()
    assert "<strong>bob</strong> (Secondary)" in page and "(Primary)" not in page


@pytest.mark.django_db
def test_contact_page_saves_valid_methods_and_refuses_bad_ones_naming_the_field(viewer_client, viewer):
    url = reverse("contact")
    assert viewer_client.get(url).status_code == 200
    bad = viewer_client.post(url, {"email": "", "slack_member_id": "<script>x", "teams_upn": "not a user"})
    assert bad.status_code == 400
    body = bad.content.decode()
    assert "Slack member id looks like" in body and "sign-in name" in body and "<script>x" not in body
    assert not ContactMethod.objects.exists()
    good = viewer_client.post(url, {"email": "vera@example.com", "slack_member_id": "u0vera1", "teams_upn": "v@x.io"})
    assert good.status_code == 302
    contact = ContactMethod.objects.get(user=viewer)
    assert (contact.email, contact.slack_member_id, contact.teams_upn) == ("vera@example.com", "U0VERA1", "v@x.io")


@pytest.mark.django_db
def test_on_call_skips_a_deactivated_account(alice, make_user):
    from oncall.selectors import on_call_now_list

    bob = make_user("bob", Role.RESPONDER)
    make_schedule(alice, bob)
    assert on_call_now_list()[0].on_call.person.name == "alice"
    alice.is_active = False
    alice.save()
    assert on_call_now_list()[0].on_call.person.name == "bob"
