"""The ASGI application: static files served beside Django, everything else through Django."""

from asgiref.sync import async_to_sync
from channels.testing import HttpCommunicator
from django.core.asgi import get_asgi_application

from aimsweb.asgi import StaticThenDjango


def _get(app, path: str) -> dict:
    return async_to_sync(HttpCommunicator(app, "GET", path, headers=[(b"host", b"127.0.0.1")]).get_response)()


def test_asgi_static_files_served_with_validators(tmp_path):
    (tmp_path / "aimsweb").mkdir()
    (tmp_path / "aimsweb" / "aims.css").write_text("body { color: red }")
    app = StaticThenDjango(get_asgi_application(), tmp_path, "static/")

    response = _get(app, "/static/aimsweb/aims.css")
    missing = _get(app, "/static/aimsweb/nope.css")

    assert response["status"] == 200
    assert response["body"] == b"body { color: red }"
    headers = dict(response["headers"])
    assert headers[b"content-type"].startswith(b"text/css") and b"etag" in headers
    assert missing["status"] == 404


def test_asgi_other_paths_reach_django(tmp_path):
    app = StaticThenDjango(get_asgi_application(), tmp_path, "static/")

    response = _get(app, "/livez")

    assert response["status"] == 200
    assert response["body"] == b'{"status": "alive"}'
