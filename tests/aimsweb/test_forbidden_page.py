"""The 403 page names the missing permission and the Admins to ask; a signed-in user without admin access who
follows a link into /admin/ gets it there too, never the admin login form."""

import pytest
from django.contrib.auth import get_user_model

from aimsweb.roles import Role

pytestmark = pytest.mark.django_db

LOGIN_FORM = 'name="password"'


@pytest.fixture
def admins(make_user):
    grace = make_user("grace", Role.ADMIN)
    grace.email = "grace@example.com"
    grace.save()
    get_user_model().objects.create_superuser("root", "root@example.com", "pw-not-used-0")
    make_user("retired", Role.ADMIN).__class__.objects.filter(username="retired").update(is_active=False)
    return grace


def test_admin_url_viewer_gets_403_naming_admins(viewer_client, admins):
    response = viewer_client.get("/admin/remediation/retrypolicy/")

    html = response.content.decode()
    assert response.status_code == 403
    assert LOGIN_FORM not in html
    assert "<strong>grace</strong>" in html and "<strong>root</strong>" in html
    assert "retired" not in html  # inactive Admins cannot help
    assert "grace@example.com" not in html  # no email addresses: pages show none anywhere else
    assert "Missing: the Admin role" in html
    assert '<a href="/settings/policies/">' in html  # where a Viewer reads it instead


def test_admin_change_url_points_to_read_only_page(viewer_client, admins):
    from tests.monitors.factories import make_retry_policy

    policy = make_retry_policy()
    html = viewer_client.get(f"/admin/remediation/retrypolicy/{policy.pk}/change/").content.decode()
    assert f'<a href="/settings/policies/{policy.pk}/">' in html
    assert "read-instead" not in viewer_client.get("/admin/auth/user/").content.decode()


@pytest.mark.parametrize("path", ["/admin/", "/admin/login/", "/admin/login/?next=/admin/", "/admin/auth/user/"])
def test_admin_any_url_responder_no_login_form(responder_client, admins, path):
    response = responder_client.get(path)
    assert response.status_code == 403
    assert LOGIN_FORM not in response.content.decode()


def test_admin_post_viewer_refused_without_effect(viewer_client, admins):
    response = viewer_client.post("/admin/login/", {"username": "grace", "password": "guess"})
    assert response.status_code == 403


def test_admin_anonymous_still_gets_login(client):
    response = client.get("/admin/remediation/retrypolicy/")
    assert response.status_code == 302 and "login/?next=/admin/remediation/retrypolicy/" in response["Location"]
    assert LOGIN_FORM in client.get("/admin/login/").content.decode()


def test_admin_admin_role_reaches_admin(admin_client_):
    assert admin_client_.get("/admin/remediation/retrypolicy/").status_code == 200


def test_page_403_names_missing_permission(viewer_client, admins):
    """A Viewer posting an action it may not take is told which permission it lacks."""
    from tests.incidents.factories import make_incident

    incident = make_incident()
    response = viewer_client.post(f"/incidents/{incident.pk}/acknowledge/")

    html = response.content.decode()
    assert response.status_code == 403
    assert "Can acknowledge an incident" in html and "incidents.acknowledge_incident" in html
    assert "<strong>grace</strong>" in html
