import pytest
from django.db import OperationalError

from aimsweb import health


@pytest.mark.django_db
def test_healthz_reports_database_and_task_queue_without_login(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    body = response.json()
    assert body["database"]["ok"] is True
    assert body["database"]["vendor"] in {"sqlite", "postgresql"}
    queue = body["task_queue"]
    assert queue["broker"] == "orm"
    assert queue["queued"] == 0
    assert queue["clusters"] == 0 and queue["ok"] is False  # no qcluster runs during tests
    assert body["status"] == "degraded"
    assert response["Cache-Control"].startswith("max-age=0")


@pytest.mark.django_db
def test_healthz_database_down_503(client, monkeypatch):
    class BrokenCursor:
        def __enter__(self):
            raise OperationalError("connection refused")

        def __exit__(self, *exc):
            return False

    monkeypatch.setattr(health.connection, "cursor", BrokenCursor)

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["database"] == {"ok": False, "vendor": health.connection.vendor, "error": "OperationalError"}
    assert response.json()["status"] == "down"


@pytest.mark.django_db
def test_healthz_only_get(client):
    assert client.post("/healthz").status_code == 405
