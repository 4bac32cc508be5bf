"""Login, logout and the rule that every page but the login page and /healthz requires login."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from aimsweb.roles import Role
from tests.conftest import PASSWORD

PUBLIC = {"login", "healthz", "livez"}


def _named_paths(resolver: URLResolver = None, prefix: str = "", namespace: str = ""):
    """Every routable path without arguments in the project's own URLconf (the admin is checked separately)."""
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            if entry.app_name == "admin":
                continue
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _named_paths(entry, prefix + str(entry.pattern), ns)
        elif isinstance(entry, URLPattern) and entry.name and not entry.pattern.converters:
            yield f"{namespace}{entry.name}", "/" + prefix + str(entry.pattern)


PROTECTED = [(name, path) for name, path in _named_paths() if name not in PUBLIC]
# The REST API answers a caller without a key or session with a 401 problem, not a login page.
API_DOCS = {"api:schema", "api:docs", "api:redoc"}
API = [name for name, path in PROTECTED if name.startswith("api:") and name not in API_DOCS and "(?P<" not in path]
PAGES = [(name, path) for name, path in PROTECTED if not name.startswith("api:") or name in API_DOCS]


def test_auth_url_inventory_covers_pages():
    names = {name for name, _ in PROTECTED}
    assert {"home", "incidents:list", "password_change"} <= names


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "path"), PAGES)
def test_auth_anonymous_redirected_to_login(client, name, path):
    response = client.get(path)

    assert response.status_code == 302, name
    assert response["Location"].startswith(reverse("login") + "?next=")


@pytest.mark.django_db
@pytest.mark.parametrize("name", API)
def test_auth_anonymous_api_call_is_401_problem(client, name):
    response = client.get(reverse(name))

    assert response.status_code == 401, name
    assert response["Content-Type"] == "application/problem+json"


@pytest.mark.django_db
def test_auth_anonymous_admin_redirected_to_login(client):
    response = client.get("/admin/remediation/retrypolicy/")

    assert response.status_code == 302
    assert response["Location"] == reverse("login") + "?next=/admin/remediation/retrypolicy/"


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/login/", "/healthz", "/livez", "/admin/login/"])
def test_auth_public_pages_open_without_login(client, path):
    assert client.get(path).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("role", list(Role))
def test_auth_login_shows_user_and_role(client, make_user, role):
    make_user(f"user-{role.value.lower()}", role)

    response = client.post("/login/", {"username": f"user-{role.value.lower()}", "password": PASSWORD}, follow=True)

    assert response.redirect_chain[-1][0] == reverse("home")
    html = response.content.decode()
    assert f'data-testid="username">user-{role.value.lower()}<' in html
    assert f'data-testid="role">{role.value}<' in html


@pytest.mark.django_db
def test_auth_wrong_password_refused_with_message(client, viewer):
    response = client.post("/login/", {"username": viewer.username, "password": "wrong"})

    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_auth_login_follows_next_within_site_only(client, viewer):
    response = client.post("/login/?next=https://evil.example/", {"username": viewer.username, "password": PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == reverse("home")


@pytest.mark.django_db
def test_auth_logout_needs_post_and_ends_session(viewer_client):
    assert viewer_client.get("/logout/").status_code == 405

    response = viewer_client.post("/logout/")

    assert response.status_code == 302 and response["Location"] == reverse("login")
    assert viewer_client.get("/incidents/").status_code == 302


@pytest.mark.django_db
def test_auth_password_change_page_styled_and_works(viewer_client, viewer):
    assert "Change password" in viewer_client.get("/password/").content.decode()

    new = "another long passphrase 42"
    response = viewer_client.post("/password/", {"old_password": PASSWORD, "new_password1": new, "new_password2": new})

    assert response.status_code == 302
    viewer.refresh_from_db()
    assert viewer.check_password(new)
