"""Browser-facing hardening: the Content-Security-Policy and pages that live within it, HSTS behind TLS, no caching of
what a signed-in user sees, security headers on static files, and session and CSRF cookie flags."""

import json
import re
import runpy
from html.parser import HTMLParser
from pathlib import Path

import pytest
from asgiref.sync import async_to_sync
from channels.testing import HttpCommunicator
from django.conf import settings as django_settings
from django.contrib import admin
from django.core.asgi import get_asgi_application
from django.test import Client
from django.urls import reverse

from aimsweb.asgi import StaticThenDjango
from tests.conftest import PASSWORD
from tests.incidents.factories import make_incident
from tests.monitors.factories import make_run

SETTINGS_FILE = Path(django_settings.BASE_DIR) / "aimsweb" / "settings.py"
# What the TLS settings decide (read from aimsweb/settings.py as it evaluates them, not restated here).
BROWSER_SECURITY_SETTINGS = [
    "SECURE_PROXY_SSL_HEADER",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SESSION_COOKIE_SECURE",
    "SESSION_COOKIE_HTTPONLY",
    "SESSION_COOKIE_SAMESITE",
    "SESSION_COOKIE_AGE",
    "CSRF_COOKIE_SECURE",
    "CSRF_COOKIE_HTTPONLY",
    "CSRF_COOKIE_SAMESITE",
]


def _csp(response) -> dict[str, list[str]]:
    header = response.headers.get("Content-Security-Policy", "")
    assert header, f"no Content-Security-Policy on {response.request['PATH_INFO']}"
    directives = {}
    for part in header.split(";"):
        name, *sources = part.split()
        directives[name] = sources
    return directives


class _InlineCode(HTMLParser):
    """Collects what a strict policy refuses: inline <script> bodies, on*= and hx-on handlers, style attributes."""

    def __init__(self):
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        for name, _value in attrs:
            if name.startswith("on") or name.startswith("hx-on") or name == "style":
                self.found.append(f"<{tag} {name}=…>")
        if tag == "script" and not dict(attrs).get("src"):
            self.found.append("<script> without src")
        if tag == "style":
            self.found.append("<style> element")


def _inline_code(html: str) -> list[str]:
    parser = _InlineCode()
    parser.feed(html)
    return parser.found


@pytest.fixture
def incident(db):
    return make_incident(make_run(error_message="Copy failed: source timed out"))


def _app_pages(incident) -> list[str]:
    return [
        "/",
        reverse("incidents:list"),
        reverse("incidents:list") + "?status=open",
        incident.get_absolute_url(),
        reverse("monitors:pipeline-list"),
        reverse("monitors:pipeline-detail", args=[incident.pipeline_id]),
        reverse("monitors:run-list"),
        reverse("password_change"),
    ]


def _admin_pages() -> list[str]:
    """The admin's index, and every registered model's list, add and (for its first row) change page."""
    pages = [reverse("admin:index")]
    for model in admin.site._registry:
        name = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        pages += [reverse(f"{name}_changelist"), reverse(f"{name}_add")]
        if first := model._default_manager.first():
            pages.append(reverse(f"{name}_change", args=[first.pk]))
    return pages


def _admin_responses(admin_client) -> dict:
    responses = {url: admin_client.get(url) for url in _admin_pages()}
    # Pages the admin refuses even a superuser (read-only models' add pages, say) show nothing to check.
    shown = {url: response for url, response in responses.items() if response.status_code != 403}
    assert reverse("admin:index") in shown and len(shown) >= 10
    return shown


@pytest.mark.parametrize("role_client", ["viewer_client", "responder_client", "admin_client_"])
def test_content_security_policy_strict_on_every_page_and_partial(request, role_client, incident):
    """Finding 18: every page and htmx partial carries a CSP that allows scripts and styles only from AIMS's own
    files (no inline code, no eval), no framing, no plugins, and websockets only to this host."""
    client = request.getfixturevalue(role_client)

    for url in _app_pages(incident):
        for headers in ({}, {"HTTP_HX_REQUEST": "true"}):
            response = client.get(url, **headers)
            assert response.status_code == 200, url
            csp = _csp(response)
            assert csp["script-src"] == ["'self'"], url
            assert csp["style-src"] == ["'self'"], url
            assert csp["default-src"] == ["'self'"] and csp["object-src"] == ["'none'"], url
            assert csp["frame-ancestors"] == ["'none'"] and csp["base-uri"] == ["'none'"], url
            assert csp["form-action"] == ["'self'"] and csp["img-src"] == ["'self'", "data:"], url
            assert csp["connect-src"] == ["'self'", "ws://testserver"], url


def test_content_security_policy_on_login_and_admin(admin_client, client, incident):
    """Finding 18: the login page and the Django admin (its own login too) carry the same strict policy."""
    for response in [
        client.get(reverse("login")),
        client.get(reverse("admin:login")),
        *_admin_responses(admin_client).values(),
    ]:
        csp = _csp(response)
        assert "'unsafe-inline'" not in csp["script-src"] and "'unsafe-eval'" not in csp["script-src"]
        assert csp["script-src"] == ["'self'"] and csp["style-src"] == ["'self'"]


@pytest.mark.parametrize("role_client", ["viewer_client", "responder_client", "admin_client_"])
def test_pages_have_no_inline_code_the_policy_would_block(request, role_client, incident):
    """Finding 18: no page or partial depends on inline scripts, on*= or hx-on handlers, or style attributes, which
    the policy blocks (the page would silently lose its behaviour)."""
    client = request.getfixturevalue(role_client)

    for url in _app_pages(incident):
        for headers in ({}, {"HTTP_HX_REQUEST": "true"}):
            html = client.get(url, **headers).content.decode()
            assert _inline_code(html) == [], url


def test_login_and_admin_pages_have_no_inline_code(admin_client, client, incident):
    """Finding 18: the login page and every admin list, add and change page live within the policy."""
    pages = {reverse("login"): client.get(reverse("login"))}
    pages.update(_admin_responses(admin_client))

    for url, response in pages.items():
        assert response.status_code == 200, url
        assert _inline_code(response.content.decode()) == [], url


def test_htmx_configured_without_eval(viewer_client):
    """Finding 18: htmx itself never evaluates strings (hx-on, js: values), injects its own <style> nor copies a
    style attribute while settling a swap."""
    html = viewer_client.get("/").content.decode()
    config = json.loads(re.search(r'<meta name="htmx-config" content=\'([^\']*)\'>', html).group(1))

    assert config["allowEval"] is False and config["includeIndicatorStyles"] is False
    assert "style" not in config["attributesToSettle"]


@pytest.fixture
def tls_settings(settings, monkeypatch, tmp_path):
    """The browser-security settings as aimsweb/settings.py decides them for a given environment, applied."""

    def apply(**environment: str):
        for name in ("BEHIND_TLS_PROXY", "SECURE_COOKIES", "AIMS_SESSION_HOURS", "SECURE_HSTS_SECONDS", "SECRET_KEY"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("AIMS_ENV_FILE", "")
        monkeypatch.setenv("AIMS_VAR_DIR", str(tmp_path))
        monkeypatch.setenv("CHANNEL_LAYER_URL", "memory://")
        for name, value in environment.items():
            monkeypatch.setenv(name, value)
        evaluated = runpy.run_path(str(SETTINGS_FILE))
        for name in BROWSER_SECURITY_SETTINGS:
            if name in evaluated:
                setattr(settings, name, evaluated[name])
            elif name == "SECURE_PROXY_SSL_HEADER":
                settings.SECURE_PROXY_SSL_HEADER = None
        return settings

    return apply


def test_hsts_sent_behind_tls_proxy_on_https_only(tls_settings, viewer_client):
    """Finding 18: behind a TLS proxy, https answers tell browsers to use https only (a year by default); plain-http
    answers never do, so a local run is never pinned to https."""
    tls_settings(BEHIND_TLS_PROXY="true")

    https = viewer_client.get("/", secure=True, HTTP_X_FORWARDED_PROTO="https")
    plain = viewer_client.get("/")

    assert https.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert "Strict-Transport-Security" not in plain.headers
    assert _csp(https)["connect-src"] == ["'self'", "wss://testserver"]


def test_hsts_never_sent_on_plain_local_run(tls_settings, viewer_client):
    """Finding 18: without TLS settings no answer carries HSTS, even one a client claims came over https."""
    tls_settings()

    response = viewer_client.get("/", HTTP_X_FORWARDED_PROTO="https")

    assert "Strict-Transport-Security" not in response.headers
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"


def test_authenticated_responses_never_stored(viewer_client, admin_client_, incident):
    """Finding 18: pages, htmx partials and admin pages shown to a signed-in user are `private, no-store`."""
    responses = [
        viewer_client.get("/"),
        viewer_client.get(incident.get_absolute_url()),
        viewer_client.get(reverse("incidents:list"), HTTP_HX_REQUEST="true"),
        viewer_client.get(reverse("monitors:run-list"), HTTP_HX_REQUEST="true"),
        admin_client_.get(reverse("admin:index")),
    ]

    for response in responses:
        directives = {d.strip() for d in response.headers.get("Cache-Control", "").split(",")}
        assert {"private", "no-store"} <= directives, response.request["PATH_INFO"]


def _static_get(app, path: str) -> dict:
    communicator = HttpCommunicator(app, "GET", path, headers=[(b"host", b"127.0.0.1")])
    return async_to_sync(communicator.get_response)()


def test_static_files_carry_security_headers(tmp_path):
    """Finding 18: static files (served beside Django, outside its middleware) are never type-sniffed, leak no
    referrer and are not embeddable by other sites, and keep their validators."""
    (tmp_path / "aimsweb").mkdir()
    (tmp_path / "aimsweb" / "aims.js").write_text("console.log(1);")
    app = StaticThenDjango(get_asgi_application(), tmp_path, "static/")

    response = _static_get(app, "/static/aimsweb/aims.js")

    assert response["status"] == 200
    headers = dict(response["headers"])
    assert headers[b"x-content-type-options"] == b"nosniff"
    assert headers[b"referrer-policy"] == b"same-origin"
    assert headers[b"cross-origin-resource-policy"] == b"same-origin"
    assert b"etag" in headers and b"last-modified" in headers


def test_cookies_secure_httponly_lax_and_short_behind_tls(tls_settings, viewer):
    """Finding 26: behind a TLS proxy the session and CSRF cookies are Secure, HttpOnly (scripts read neither; htmx
    takes the token from the page), SameSite=Lax, and a session lasts 12 hours, not two weeks."""
    tls_settings(BEHIND_TLS_PROXY="true")
    client = Client()
    https = {"secure": True, "HTTP_X_FORWARDED_PROTO": "https"}

    login_page = client.get(reverse("login"), **https)
    signed_in = client.post(reverse("login"), {"username": viewer.username, "password": PASSWORD}, **https)

    csrf = login_page.cookies["csrftoken"]
    session = signed_in.cookies["sessionid"]
    assert signed_in.status_code == 302
    assert csrf["secure"] and csrf["httponly"] and csrf["samesite"] == "Lax"
    assert session["secure"] and session["httponly"] and session["samesite"] == "Lax"
    assert session["max-age"] == 12 * 3600


def test_session_length_configurable_and_cookies_plain_on_local_run(tls_settings, viewer):
    """Finding 26: AIMS_SESSION_HOURS sets the session's length; a plain-http local run keeps cookies usable over
    http, the CSRF cookie still out of scripts' reach."""
    tls_settings(AIMS_SESSION_HOURS="8")
    client = Client()

    login_page = client.get(reverse("login"))
    signed_in = client.post(reverse("login"), {"username": viewer.username, "password": PASSWORD})

    assert signed_in.cookies["sessionid"]["max-age"] == 8 * 3600
    assert not signed_in.cookies["sessionid"]["secure"]
    assert login_page.cookies["csrftoken"]["httponly"]


def test_htmx_sends_csrf_token_from_page_not_cookie(responder_client, incident):
    """Finding 26: with the CSRF cookie HttpOnly, every page hands htmx the token itself."""
    html = responder_client.get(incident.get_absolute_url()).content.decode()

    assert 'hx-headers=\'{"X-CSRFToken": "' in html
    assert "document.cookie" not in (Path(django_settings.BASE_DIR) / "aimsweb/static/aimsweb/aims.js").read_text()
