"""Test settings: the project's settings with in-process stand-ins for what tests must not share or wait for."""

import os

# Before the project settings read the environment: no developer's .env, and no local Redis expected.
os.environ["AIMS_ENV_FILE"] = ""
os.environ["CHANNEL_LAYER_URL"] = "memory://"
# A server that a browser test starts (tests/browser) shares a Redis channel layer with the test process instead.
if os.environ.get("AIMS_TEST_CHANNEL_LAYER_URL"):
    os.environ["CHANNEL_LAYER_URL"] = os.environ["AIMS_TEST_CHANNEL_LAYER_URL"]

from aimsweb.settings import *  # noqa: F403
from aimsweb.settings import CACHES, Q_CLUSTER

Q_CLUSTER["sync"] = True  # tasks run inline; django-q2 reads this once, at import
CACHES["default"] = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
AIMS_DEMO_PASSWORDS = {"viewer": "", "responder": "", "admin": ""}

# A file, not memory, for the SQLite test database: each thread of a live server then gets its own connection, as
# in production, instead of all threads sharing one (which SQLite cannot interleave).
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # One file per test process, so two suites run at once (two checkouts' tools, say) never share it.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-db-{os.getpid()}.sqlite3")}  # noqa: F405

# A worker process that a test starts (see tests/incidents/test_rerun_crash.py) works on that test's database.
if os.environ.get("AIMS_TEST_WORKER_DATABASE"):
    DATABASES["default"]["NAME"] = os.environ["AIMS_TEST_WORKER_DATABASE"]  # noqa: F405

# A server that a browser test starts serves the static files collected for it; the project's var/static is left alone.
if os.environ.get("AIMS_TEST_STATIC_ROOT"):
    STATIC_ROOT = os.environ["AIMS_TEST_STATIC_ROOT"]
