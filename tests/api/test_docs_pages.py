"""The API's reference pages, for signed-in people: Swagger UI and Redoc from AIMS's own static files (no CDN, no
inline script), and the schema they read."""

import re

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/"])
def test_api_docs_page_uses_only_own_static_files(viewer_client, path):
    response = viewer_client.get(path)

    assert response.status_code == 200
    html = response.content.decode()
    sources = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', html)
    assert sources and all(source.startswith(("/static/", "/api/")) for source in sources), sources
    assert "<script>" not in html and "<style>" not in html  # the site's CSP allows neither
    assert "googleapis" not in html and "cdn" not in html.lower()


def test_api_docs_init_script_and_schema_served(viewer_client):
    script = viewer_client.get("/api/docs/?script=")
    schema = viewer_client.get("/api/schema")

    assert script.status_code == 200 and script["Content-Type"].startswith("application/javascript")
    assert "/api/schema" in script.content.decode()
    assert schema.status_code == 200 and b"openapi: 3.1.0" in schema.content
