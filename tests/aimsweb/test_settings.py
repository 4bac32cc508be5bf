"""The settings module read afresh under different environments (it is the one place that reads them)."""

import logging
import re
import runpy
import stat
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured

SETTINGS_FILE = Path(django_settings.BASE_DIR) / "aimsweb" / "settings.py"
VARIABLES = [
    "DATABASE_URL",
    "REDIS_URL",
    "CHANNEL_LAYER_URL",
    "SECRET_KEY",
    "DEBUG",
    "ALLOWED_HOSTS",
    "Q_TIMEOUT",
    "Q_RETRY",
    "EMAIL_URL",
    "AIMS_ENCRYPTION_KEYS",
]


@pytest.fixture
def load_settings(monkeypatch, tmp_path):
    """Evaluate aimsweb/settings.py with exactly the given variables set, var/ in a temporary folder."""

    def load(**environment: str) -> dict:
        for name in VARIABLES:
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("AIMS_ENV_FILE", "")
        monkeypatch.setenv("AIMS_VAR_DIR", str(tmp_path))
        for name, value in environment.items():
            monkeypatch.setenv(name, value)
        # AIMS's own settings module is imported by the settings: read it afresh too (restored afterwards).
        monkeypatch.delitem(sys.modules, "aimsweb.settings_product", raising=False)
        return runpy.run_path(str(SETTINGS_FILE))

    return load


def test_settings_defaults_are_embedded(load_settings, tmp_path):
    s = load_settings()

    db = s["DATABASES"]["default"]
    assert db["ENGINE"] == "django.db.backends.sqlite3"
    assert db["NAME"] == str(tmp_path / "aims.sqlite3")
    assert "journal_mode=WAL" in db["OPTIONS"]["init_command"]
    assert db["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert s["Q_CLUSTER"]["orm"] == "default" and "redis" not in s["Q_CLUSTER"]
    assert s["Q_CLUSTER"]["timeout"] < s["Q_CLUSTER"]["retry"]
    assert s["Q_CLUSTER"]["max_attempts"] >= 1
    layer = s["CHANNEL_LAYERS"]["default"]
    assert layer["BACKEND"] == "channels_redis.core.RedisChannelLayer"
    assert layer["CONFIG"]["hosts"] == [{"address": f"unix://{tmp_path / 'run' / 'redis.sock'}", "socket_timeout": 10}]
    assert s["CACHES"]["default"]["BACKEND"].endswith("FileBasedCache")
    assert s["EMAIL_BACKEND"] == "django.core.mail.backends.console.EmailBackend"
    assert s["DEBUG"] is False
    assert s["ALLOWED_HOSTS"] == ["127.0.0.1", "localhost"]


def test_settings_without_secret_key_generates_private_one_and_keeps_it(load_settings, tmp_path):
    first = load_settings()["SECRET_KEY"]
    second = load_settings()["SECRET_KEY"]

    assert len(first) >= 50 and first == second
    assert stat.S_IMODE((tmp_path / "secret_key").stat().st_mode) == 0o600


def test_settings_database_url_postgres_uses_psycopg_pool(load_settings):
    s = load_settings(DATABASE_URL="postgres://aims:pw@127.0.0.1:5432/aims")

    db = s["DATABASES"]["default"]
    assert db["ENGINE"] == "django.db.backends.postgresql"
    assert (db["NAME"], db["HOST"], db["PORT"], db["USER"]) == ("aims", "127.0.0.1", 5432, "aims")
    assert db["OPTIONS"]["pool"]["max_size"] >= 1
    assert db["CONN_MAX_AGE"] == 0


def test_settings_redis_url_drives_queue_cache_and_channel_layer(load_settings):
    url = "redis://127.0.0.1:6379/2"
    s = load_settings(REDIS_URL=url)

    assert s["Q_CLUSTER"]["redis"] == url and "orm" not in s["Q_CLUSTER"]
    assert s["CHANNEL_LAYERS"]["default"]["CONFIG"]["hosts"] == [{"address": url, "socket_timeout": 10}]
    assert s["CACHES"]["default"] == {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}


def test_settings_memory_channel_layer_selectable(load_settings):
    s = load_settings(CHANNEL_LAYER_URL="memory://")

    assert s["CHANNEL_LAYERS"]["default"]["BACKEND"] == "channels.layers.InMemoryChannelLayer"


def test_settings_security_values_from_environment(load_settings):
    s = load_settings(SECRET_KEY="k" * 60, DEBUG="true", ALLOWED_HOSTS="aims.example.org,aims")

    assert s["SECRET_KEY"] == "k" * 60
    assert s["DEBUG"] is True
    assert s["ALLOWED_HOSTS"] == ["aims.example.org", "aims"]


def test_settings_task_timeout_not_below_retry_refused(load_settings):
    with pytest.raises(ImproperlyConfigured, match="Q_TIMEOUT .* must be below Q_RETRY"):
        load_settings(Q_TIMEOUT="600", Q_RETRY="600")


def test_settings_unsupported_database_refused(load_settings):
    with pytest.raises(ImproperlyConfigured, match="DATABASE_URL"):
        load_settings(DATABASE_URL="mysql://aims@127.0.0.1/aims")


def test_settings_env_example_documents_every_variable():
    """Every variable the settings read is listed in .env.example."""
    source = SETTINGS_FILE.read_text() + (SETTINGS_FILE.parent / "settings_product.py").read_text()
    documented = (SETTINGS_FILE.parent.parent / ".env.example").read_text()
    read = {name for name in re.findall(r'env\.\w+\(\s*f?"([A-Z_]+)', source) if not name.endswith("_")}
    read |= {f"AIMS_DEMO_PASSWORD_{role}" for role in ("VIEWER", "RESPONDER", "ADMIN")}
    missing = sorted(name for name in read if f"{name}=" not in documented)
    assert not missing, f".env.example lacks {missing}"


def test_settings_sqlite_options_put_database_in_wal_mode(load_settings, django_db_blocker):
    from django.db.backends.sqlite3.base import DatabaseWrapper

    db = load_settings()["DATABASES"]["default"]
    wrapper = DatabaseWrapper(
        {**db, "TIME_ZONE": None, "CONN_HEALTH_CHECKS": False, "CONN_MAX_AGE": 0, "AUTOCOMMIT": True}
    )
    try:
        with django_db_blocker.unblock(), wrapper.cursor() as cursor:
            cursor.execute("PRAGMA journal_mode")
            assert cursor.fetchone()[0] == "wal"
    finally:
        wrapper.close()


QUIET_BY_DEFAULT = [
    "azure.core.pipeline.policies.http_logging_policy",
    "azure.identity",
    "databricks.sdk",
    "urllib3.connectionpool",
    "django-q",
    "aims.access",
    "daphne.server",
]


@pytest.mark.parametrize("name", QUIET_BY_DEFAULT)
def test_settings_chatty_loggers_log_only_warnings_by_default(name):
    """The configured process (these tests run with the project's logging): per-request and per-task lines of the
    SDKs, django-q2 and the access log are dropped, their warnings kept."""
    logger = logging.getLogger(name)

    assert not logger.isEnabledFor(logging.INFO)
    assert logger.isEnabledFor(logging.WARNING)


def test_settings_verbose_logs_let_chatty_loggers_through(load_settings):
    quiet = load_settings()["LOGGING"]["loggers"]
    verbose = load_settings(AIMS_VERBOSE_LOGS="true")["LOGGING"]["loggers"]

    assert quiet["azure.core.pipeline.policies.http_logging_policy"] == {"level": "WARNING"}
    assert quiet["django-q"] == {"level": "WARNING"}
    assert "azure.core.pipeline.policies.http_logging_policy" not in verbose and "django-q" not in verbose
    assert verbose["django.request"] == quiet["django.request"]
