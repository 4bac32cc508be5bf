"""An Admin can give people one of the three roles and nothing more: never superuser, staff, groups or single
permissions, never to themselves, never to or on a superuser; and nobody, a superuser included, can make the task
queue run a function that is not an AIMS task (Finding 1). A 403 is logged on one line (Finding 25)."""

import logging
import os
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone
from django_q.models import Schedule

from aimsweb.roles import Role
from tests.admin_forms import admin_post_data

User = get_user_model()
ALLOWED_TASK = "incidents.tasks.notifications_tick_task"


def _change_url(user) -> str:
    return f"/admin/auth/user/{user.pk}/change/"


def _post_change(client: Client, user, **changes):
    page = client.get(_change_url(user))
    assert page.status_code == 200
    data = admin_post_data(page, **changes)
    if "date_joined" in page.context["adminform"].form.fields:  # Django's full form: a split date and time
        joined = timezone.localtime(user.date_joined)
        data.update(date_joined_0=joined.strftime("%Y-%m-%d"), date_joined_1=joined.strftime("%H:%M:%S"))
    return client.post(_change_url(user), data)


def _escalation(all_permissions) -> dict:
    """What the stock user form would take: superuser and staff status, every group, every single permission."""
    return {
        "is_superuser": "on",
        "is_staff": "on",
        "groups": [str(pk) for pk in Group.objects.values_list("pk", flat=True)],
        "user_permissions": [str(pk) for pk in all_permissions],
    }


@pytest.fixture
def superuser(db):
    return User.objects.create_superuser("root", password="root passphrase 123")


@pytest.fixture
def superuser_client(superuser) -> Client:
    client = Client()
    client.force_login(superuser)
    return client


@pytest.mark.django_db
def test_user_admin_escalation_fields_posted_by_admin_on_itself_gain_nothing(admin_client_, admin_user):
    """Finding 1: the Admin who ticked is_superuser (and groups, permissions) on itself gains none of it."""
    all_permissions = list(Permission.objects.values_list("pk", flat=True))

    response = _post_change(admin_client_, admin_user, **_escalation(all_permissions))

    assert response.status_code == 302
    admin_user.refresh_from_db()
    assert not admin_user.is_superuser
    assert not admin_user.user_permissions.exists()
    assert set(admin_user.groups.values_list("name", flat=True)) == {Role.ADMIN.value}
    assert not admin_user.has_perm("django_q.add_schedule")


@pytest.mark.django_db
def test_user_admin_escalation_fields_posted_for_another_user_ignored_role_applied(admin_client_, viewer):
    """Finding 1: an Admin's form for another user takes one role, and ignores superuser, groups and permissions."""
    all_permissions = list(Permission.objects.values_list("pk", flat=True))

    response = _post_change(admin_client_, viewer, role=Role.RESPONDER.value, **_escalation(all_permissions))

    assert response.status_code == 302
    viewer.refresh_from_db()
    assert not viewer.is_superuser and not viewer.is_staff
    assert not viewer.user_permissions.exists()
    assert list(viewer.groups.values_list("name", flat=True)) == [Role.RESPONDER.value]


@pytest.mark.django_db
def test_user_admin_form_for_admin_has_only_role_no_raw_fields(admin_client_, viewer):
    """Finding 1: is_superuser, is_staff, groups and user_permissions are not on an Admin's user form."""
    form = admin_client_.get(_change_url(viewer)).context["adminform"].form

    assert {"is_superuser", "is_staff", "groups", "user_permissions"}.isdisjoint(form.fields)
    assert {"username", "email", "is_active", "role"} <= set(form.fields)
    assert form.fields["role"].initial == Role.VIEWER.value


@pytest.mark.django_db
def test_user_admin_roles_set_by_admin(admin_client_, viewer):
    """Finding 1: the three roles (and none) are what an Admin assigns; Admin alone reaches the admin site."""
    _post_change(admin_client_, viewer, role=Role.ADMIN.value)
    viewer.refresh_from_db()
    assert viewer.is_staff and not viewer.is_superuser
    assert list(viewer.groups.values_list("name", flat=True)) == [Role.ADMIN.value]

    _post_change(admin_client_, viewer, role="")
    viewer.refresh_from_db()
    assert not viewer.is_staff and not viewer.groups.exists()


@pytest.mark.django_db
def test_user_admin_add_by_admin_takes_role_not_superuser(admin_client_):
    """Finding 1: a user an Admin creates gets the chosen role and never superuser status, whatever is posted."""
    response = admin_client_.post(
        "/admin/auth/user/add/",
        {
            "username": "newbie",
            "usable_password": "true",
            "password1": "a long new passphrase 77",
            "password2": "a long new passphrase 77",
            "role": Role.VIEWER.value,
            "is_superuser": "on",
            "is_staff": "on",
            "groups": [str(Group.objects.get(name=Role.ADMIN.value).pk)],
        },
    )

    assert response.status_code == 302
    user = User.objects.get(username="newbie")
    assert not user.is_superuser and not user.is_staff
    assert list(user.groups.values_list("name", flat=True)) == [Role.VIEWER.value]


@pytest.mark.django_db
def test_user_admin_admin_cannot_change_own_role_or_deactivate_self(admin_client_, admin_user):
    """Finding 1: an Admin's own role and active flag are shown, not taken from the POST."""
    form = admin_client_.get(_change_url(admin_user)).context["adminform"].form
    assert form.fields["role"].disabled and form.fields["is_active"].disabled

    response = _post_change(admin_client_, admin_user, role=Role.VIEWER.value, is_active=None)

    assert response.status_code == 302
    admin_user.refresh_from_db()
    assert admin_user.is_active and admin_user.is_staff
    assert list(admin_user.groups.values_list("name", flat=True)) == [Role.ADMIN.value]


@pytest.mark.django_db
def test_user_admin_admin_cannot_delete_self(admin_client_, admin_user):
    """Finding 1: an Admin cannot delete its own account."""
    assert admin_client_.get(f"/admin/auth/user/{admin_user.pk}/delete/").status_code == 403
    assert admin_client_.post(f"/admin/auth/user/{admin_user.pk}/delete/", {"post": "yes"}).status_code == 403
    assert User.objects.filter(pk=admin_user.pk).exists()


@pytest.mark.django_db
def test_user_admin_superuser_out_of_admins_reach(admin_client_, superuser):
    """Finding 1: an Admin can neither open, edit, reset the password of, nor delete a superuser (one by one or in
    bulk)."""
    base = f"/admin/auth/user/{superuser.pk}"

    assert admin_client_.get(f"{base}/change/").status_code == 403
    assert admin_client_.post(f"{base}/change/", {"username": "mine", "is_active": ""}).status_code == 403
    assert admin_client_.get(f"{base}/password/").status_code == 403
    assert admin_client_.post(f"{base}/password/", {"password1": "x" * 20, "password2": "x" * 20}).status_code == 403
    assert admin_client_.post(f"{base}/delete/", {"post": "yes"}).status_code == 403
    admin_client_.post(
        "/admin/auth/user/", {"action": "delete_selected", "_selected_action": [superuser.pk], "post": "yes"}
    )

    superuser.refresh_from_db()
    assert superuser.username == "root" and superuser.is_active and superuser.check_password("root passphrase 123")


@pytest.mark.django_db
def test_user_admin_superuser_keeps_full_form(superuser_client, viewer):
    """Finding 1: a superuser still grants superuser status, groups and single permissions."""
    form = superuser_client.get(_change_url(viewer)).context["adminform"].form

    assert {"is_superuser", "is_staff", "groups", "user_permissions"} <= set(form.fields)


@pytest.mark.django_db
def test_group_admin_admin_cannot_change_group_permissions(admin_client_):
    """Finding 1: Admins see the role groups, and cannot give a group (their own included) more permissions."""
    group = Group.objects.get(name=Role.ADMIN.value)
    before = set(group.permissions.values_list("pk", flat=True))

    assert admin_client_.get(f"/admin/auth/group/{group.pk}/change/").status_code == 200
    response = admin_client_.post(
        f"/admin/auth/group/{group.pk}/change/",
        {"name": group.name, "permissions": [str(pk) for pk in Permission.objects.values_list("pk", flat=True)]},
    )

    assert response.status_code == 403
    assert set(group.permissions.values_list("pk", flat=True)) == before


@pytest.mark.django_db
def test_schedule_admin_admin_cannot_add_schedule(admin_client_):
    """Finding 1: an Admin cannot add a schedule at all."""
    assert admin_client_.get("/admin/django_q/schedule/add/").status_code == 403
    response = admin_client_.post(
        "/admin/django_q/schedule/add/", {"func": "os.system", "args": "'id'", "schedule_type": "O", "repeats": "-1"}
    )

    assert response.status_code == 403
    assert not Schedule.objects.exists()


def _schedule_form_post(client: Client, **fields):
    now = timezone.localtime()
    data = {
        "name": "mine", "func": ALLOWED_TASK, "schedule_type": Schedule.MINUTES, "minutes": "5", "repeats": "-1",
        "next_run_0": now.strftime("%Y-%m-%d"), "next_run_1": now.strftime("%H:%M:%S"),
    }  # fmt: skip
    data.update(fields)
    return client.post("/admin/django_q/schedule/add/", data)


@pytest.mark.django_db
def test_schedule_admin_superuser_cannot_save_unlisted_func(superuser_client):
    """Finding 1: even a superuser's schedule form names only an allow-listed task (error on the function field)."""
    response = _schedule_form_post(superuser_client, func="os.system", args="'touch /tmp/aims-pwned'")

    assert response.status_code == 200
    assert "func" in response.context["adminform"].form.errors
    assert not Schedule.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"hook": "os.system"}, None),  # not on the form: ignored, never saved
        ({"kwargs": "hook='os.system'"}, "kwargs"),
        ({"kwargs": "q_options={'hook': 'os.system'}"}, "kwargs"),
        ({"kwargs": "{'chain': [('os.system', ('id',))]}"}, "kwargs"),
        ({"args": "__import__('os').system('id')"}, "args"),
        ({"intended_date_kwarg": "hook"}, "intended_date_kwarg"),
    ],
)
def test_schedule_admin_superuser_cannot_name_callable_elsewhere(superuser_client, fields, field):
    """Finding 1: a schedule's hook, arguments and keyword arguments cannot name another callable."""
    response = _schedule_form_post(superuser_client, **fields)

    if field is None:
        assert response.status_code == 302
        assert Schedule.objects.get().hook in (None, "")
    else:
        assert response.status_code == 200
        assert field in response.context["adminform"].form.errors
        assert not Schedule.objects.exists()


@pytest.mark.django_db
def test_schedule_admin_superuser_saves_allow_listed_task(superuser_client):
    """Finding 1: an allow-listed task with plain arguments is still saved."""
    response = _schedule_form_post(superuser_client, func="monitors.tasks.monitor_poll_task", args="1")

    assert response.status_code == 302
    assert Schedule.objects.get().func == "monitors.tasks.monitor_poll_task"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "fields",
    [{"func": "os.system", "args": "'id'"}, {"func": ALLOWED_TASK, "hook": "os.system"}],
    ids=["func", "hook"],
)
def test_schedule_orm_refuses_unlisted_callable(fields):
    """Finding 1: below the admin, a schedule row naming another callable is refused on save."""
    with pytest.raises(ValidationError):
        Schedule.objects.create(name="sneaky", schedule_type=Schedule.ONCE, **fields)

    assert not Schedule.objects.exists()


def _due_schedule(func: str, args: str | None = None) -> Schedule:
    """A due schedule whose function was written past the save check (raw SQL, a row from before it)."""
    schedule = Schedule.objects.create(
        name="due", func=ALLOWED_TASK, schedule_type=Schedule.MINUTES, minutes=1, repeats=-1,
        next_run=timezone.now() - timedelta(minutes=1),
    )  # fmt: skip
    Schedule.objects.filter(pk=schedule.pk).update(func=func, args=args)
    return schedule


@pytest.mark.django_db
def test_schedule_worker_refuses_unlisted_func(monkeypatch, caplog):
    """Finding 1: a due schedule naming os.system is not run by the cluster (os.system is never called)."""
    from django_q.scheduler import scheduler

    calls = []
    monkeypatch.setattr(os, "system", lambda *args: calls.append(args) or 0)
    _due_schedule("os.system", "'touch /tmp/aims-pwned'")

    with caplog.at_level(logging.WARNING):
        scheduler()

    assert calls == []
    assert "not an AIMS task" in caplog.text


@pytest.mark.django_db
def test_schedule_worker_runs_allow_listed_task():
    """Finding 1: a due schedule of an allow-listed task still runs (the scheduler hands it to a worker)."""
    from django_q.scheduler import scheduler

    schedule = _due_schedule(ALLOWED_TASK)

    scheduler()

    schedule.refresh_from_db()
    assert schedule.task is not None
    assert schedule.next_run > timezone.now()


@pytest.mark.django_db
def test_forbidden_logged_on_one_line_without_traceback(admin_client_, caplog):
    """Finding 25: a 403 is one warning line in the log, without the PermissionDenied traceback."""
    with caplog.at_level(logging.WARNING, logger="django.request"):
        response = admin_client_.get("/admin/auth/group/add/")

    assert response.status_code == 403
    records = [record for record in caplog.records if record.name == "django.request"]
    assert len(records) == 1 and records[0].levelno == logging.WARNING
    assert records[0].exc_info is None and "Traceback" not in caplog.text


@pytest.mark.django_db
def test_failure_admin_admin_cannot_resubmit_task(admin_client_, monkeypatch):
    """Finding 1: resubmitting a recorded task runs it again, which Admins (view only) cannot do."""
    from django_q.models import Failure

    calls = []
    monkeypatch.setattr(os, "system", lambda *args: calls.append(args) or 0)
    failure = Failure.objects.create(
        id="f" * 32, name="old", func="os.system", args=("id",), kwargs={}, started=timezone.now(),
        stopped=timezone.now(), success=False,
    )  # fmt: skip

    admin_client_.post(
        "/admin/django_q/failure/", {"action": "resubmit_task", "_selected_action": [failure.pk], "index": "0"}
    )

    assert calls == []
