"""The demo's on-call: a Primary schedule rotating the demo responder and admin, their contacts, and the demo
route's escalation step targeting it; a second run changes nothing."""

from io import StringIO

import pytest
from django.core.management import call_command

from incidents.models import EscalationStep
from oncall.models import ContactMethod, Schedule
from oncall.selectors import on_call_now_list


@pytest.fixture(autouse=True)
def private_var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path


@pytest.mark.django_db
def test_demo_setup_creates_the_primary_schedule_and_escalates_to_it():
    call_command("demo_setup", stdout=StringIO())
    call_command("demo_setup", stdout=StringIO())

    schedule = Schedule.objects.get()
    assert schedule.name == "Primary"
    members = [m.user.username for m in schedule.rotations.get().members.all()]
    assert members == ["responder", "admin"]
    (now,) = on_call_now_list()
    assert now.on_call is not None and now.on_call.person.name in members
    assert EscalationStep.objects.get().oncall_schedule == schedule
    assert sorted(ContactMethod.objects.values_list("slack_member_id", flat=True)) == ["U0DEMOADMN", "U0DEMORESP"]
