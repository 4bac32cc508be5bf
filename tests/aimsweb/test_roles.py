"""Each role reaches what it should, and nothing more, in the pages and in the admin."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from aimsweb.roles import Role, user_role


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def users(viewer, responder, admin_user, no_role_user):
    return {"viewer": viewer, "responder": responder, "admin": admin_user, "none": no_role_user}


ALLOWED = 200
FORBIDDEN = 403
# Signed in without access to the admin: the 403 page that says whom to ask, never the admin's login form.
NOT_STAFF = 403

ACCESS = [
    # (path, {user: expected status})
    ("/incidents/", {"viewer": ALLOWED, "responder": ALLOWED, "admin": ALLOWED, "none": FORBIDDEN}),
    ("/admin/", {"viewer": NOT_STAFF, "responder": NOT_STAFF, "admin": ALLOWED, "none": NOT_STAFF}),
    (
        "/admin/remediation/retrypolicy/add/",
        {"viewer": NOT_STAFF, "responder": NOT_STAFF, "admin": ALLOWED, "none": NOT_STAFF},
    ),
    ("/admin/monitors/connection/add/", {"admin": ALLOWED, "responder": NOT_STAFF}),
    ("/admin/contracts/datacontract/add/", {"admin": ALLOWED, "viewer": NOT_STAFF}),
    ("/admin/auth/user/", {"admin": ALLOWED, "responder": NOT_STAFF}),
    ("/admin/auth/user/add/", {"admin": ALLOWED}),
    ("/admin/incidents/incident/", {"admin": ALLOWED}),
    # Records the system writes are read-only even for Admins.
    ("/admin/monitors/pipelinerun/add/", {"admin": FORBIDDEN}),
    ("/admin/incidents/incident/add/", {"admin": FORBIDDEN}),
    ("/admin/auth/group/add/", {"admin": FORBIDDEN}),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("path", "expected"), ACCESS, ids=[path for path, _ in ACCESS])
def test_roles_page_and_admin_access(users, path, expected):
    for who, status in expected.items():
        response = _client(users[who]).get(path)
        assert response.status_code == status, f"{who} GET {path}"


@pytest.mark.django_db
def test_roles_no_role_user_told_why(no_role_user):
    response = _client(no_role_user).get("/incidents/")

    assert response.status_code == 403
    assert "no role yet" in response.content.decode()


@pytest.mark.django_db
def test_roles_permissions_per_role(viewer, responder, admin_user):
    assert viewer.has_perm("incidents.view_incident")
    assert not viewer.has_perm("incidents.acknowledge_incident")
    assert not viewer.has_perm("monitors.retry_pipelinerun")

    assert responder.has_perms(
        ["incidents.acknowledge_incident", "incidents.resolve_incident", "incidents.comment_incident"]
    )
    assert responder.has_perm("monitors.retry_pipelinerun")
    assert not responder.has_perm("remediation.change_retrypolicy")

    assert admin_user.has_perms(
        ["remediation.change_retrypolicy", "monitors.change_connection", "contracts.change_datacontract"]
    )
    assert admin_user.has_perms(["auth.add_user", "auth.change_user"])


@pytest.mark.django_db
def test_roles_user_role_picks_highest(make_user, viewer, responder, admin_user, no_role_user):
    superuser = get_user_model().objects.create_superuser("root", password="x")
    both = make_user("both", Role.VIEWER)
    both.groups.add(admin_user.groups.get())

    assert [user_role(u) for u in (viewer, responder, admin_user, no_role_user)] == [
        Role.VIEWER,
        Role.RESPONDER,
        Role.ADMIN,
        None,
    ]
    assert user_role(superuser) == Role.ADMIN
    assert user_role(both) == Role.ADMIN


@pytest.mark.django_db
def test_roles_admin_sees_admin_link_others_do_not(viewer_client, admin_client_):
    assert 'href="/admin/"' not in viewer_client.get("/incidents/").content.decode()
    assert 'href="/admin/"' in admin_client_.get("/incidents/").content.decode()
