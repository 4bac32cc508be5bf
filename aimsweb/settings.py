"""AIMS settings: the one place that reads the environment.

Defaults give the embedded setup that `make run` starts (SQLite in WAL mode under var/, django-q2 ORM broker,
console email, a file cache and a Redis channel layer on a local socket). Production is configured entirely
through environment variables; `.env.example` documents each of them.
"""

import base64
import hashlib
import os
import secrets
from pathlib import Path
from typing import Any

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# A local .env file (or the file AIMS_ENV_FILE names; empty: none) fills in variables the process environment does
# not set; it never overrides them.
ENV_FILE = env.str("AIMS_ENV_FILE", default=str(BASE_DIR / ".env"))
if ENV_FILE and Path(ENV_FILE).is_file():
    environ.Env.read_env(ENV_FILE, overwrite=False)

VAR_DIR = Path(env.str("AIMS_VAR_DIR", default=str(BASE_DIR / "var")))


def _tighten(path: Path, mode: int) -> None:
    """Give a file or folder of this user's the mode (earlier versions left them world-readable); others' stay."""
    if path.stat().st_uid == os.getuid():
        path.chmod(mode)


def _private_var_dir(path: Path) -> None:
    """Create var/ for this user alone: it holds the secret key, the SQLite database, the cache and Redis' socket.
    A var/ that AIMS made before is tightened; a folder named but not AIMS's is left alone."""
    if not path.is_dir():
        path.mkdir(mode=0o700, parents=True)
    elif path == BASE_DIR / "var" or any((path / name).exists() for name in ("secret_key", "aims.sqlite3")):
        _tighten(path, 0o700)


_private_var_dir(VAR_DIR)


def _local_secret_key() -> str:
    """A random key kept in var/ so local sessions survive restarts; production sets SECRET_KEY."""
    path = VAR_DIR / "secret_key"
    if not path.exists():
        # Written aside and linked into place, so concurrent first starts agree on one key.
        draft = path.with_name(f".secret_key.{os.getpid()}")
        # Created 0600, so the key is never readable by others, not even between writing and chmod.
        with os.fdopen(os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as file:
            file.write(secrets.token_urlsafe(50))
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text().strip()


SECRET_KEY = env.str("SECRET_KEY", default="") or _local_secret_key()
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# The address people use to reach AIMS, for links in notifications and tickets.
AIMS_BASE_URL = env.str("AIMS_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")

# --- Browser security: TLS, cookies, sessions, headers -----------------------------------------------------------
# Behind a TLS proxy (or with SECURE_COOKIES) cookies are sent over https only and browsers are told to use https
# alone (HSTS, only ever sent on https responses, so a plain-http local run is never pinned).
BEHIND_TLS_PROXY = env.bool("BEHIND_TLS_PROXY", default=False)
SECURE_COOKIES = env.bool("SECURE_COOKIES", default=False) or BEHIND_TLS_PROXY
if BEHIND_TLS_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=365 * 24 * 3600) if SECURE_COOKIES else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
# A session lasts one on-call shift, not Django's two weeks.
SESSION_COOKIE_AGE = env.int("AIMS_SESSION_HOURS", default=12) * 3600
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# Scripts never read the CSRF cookie: htmx sends the token the page carries (base.html's hx-headers).
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Scripts and styles only from AIMS's own static files: no inline script, handler or style attribute, no eval (htmx
# runs with allowEval off, see base.html). aimsweb.middleware adds the page's own ws:/wss: origin to connect-src.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "django_htmx",
    "template_partials",
    "django_q",
    "axes",
    "aimsweb",
    "monitors",
    "remediation",
    "oncall",
    "incidents",
    "contracts",
    "insights",
    "webhooks",
    "tickets",
    "api",
    "settings_pages",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "aimsweb.middleware.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "aimsweb.access.AdminSiteGuardMiddleware",
    "aimsweb.middleware.PrivateCacheMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "aimsweb.urls"
ASGI_APPLICATION = "aimsweb.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "aimsweb.context_processors.role",
            ],
        },
    },
]

# --- Database --------------------------------------------------------------------------------------------------
DATABASES = {"default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'aims.sqlite3'}")}
_db = DATABASES["default"]
if _db["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server read while workers write; IMMEDIATE takes the write lock up front instead of
    # failing with "database is locked" when two writers upgrade at once.
    _db["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    # SQLite would create the database world-readable (umask 022), and its -wal/-shm files take the database's
    # mode: the one under var/ is created private before SQLite opens it, and tightened if an earlier run left it open.
    _sqlite = Path(_db["NAME"])
    if _sqlite.parent == VAR_DIR:
        for _path in [_sqlite, *VAR_DIR.glob(f"{_sqlite.name}-*")]:
            os.close(os.open(_path, os.O_RDONLY | os.O_CREAT, 0o600))
            _tighten(_path, 0o600)
elif _db["ENGINE"] == "django.db.backends.postgresql":
    # Persistent connections leak one per thread under ASGI; psycopg's pool is the way to reuse them.
    _db["CONN_MAX_AGE"] = 0
    _db.setdefault("OPTIONS", {})["pool"] = {
        "min_size": env.int("DB_POOL_MIN_SIZE", default=1),
        "max_size": env.int("DB_POOL_MAX_SIZE", default=10),
        "timeout": env.float("DB_POOL_TIMEOUT", default=10.0),
    }
else:
    raise ImproperlyConfigured(f"DATABASE_URL: unsupported database engine {_db['ENGINE']!r}; use sqlite or postgres")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis, cache, task queue, channel layer -------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")

if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    # A file cache crosses processes, so the web server sees the task cluster's heartbeat (see /healthz).
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": VAR_DIR / "cache"}
    }

# Rendered fragments (the incident list's rows), kept in each process: keyed by what they show, never stale.
CACHES["fragments"] = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "aims-fragments",
    "OPTIONS": {"MAX_ENTRIES": 5000},
}

Q_CLUSTER = {
    "name": "aims",
    "label": "Task queue",
    "workers": env.int("Q_WORKERS", default=2),
    "timeout": env.int("Q_TIMEOUT", default=300),
    "retry": env.int("Q_RETRY", default=360),
    "max_attempts": env.int("Q_MAX_ATTEMPTS", default=3),
    # A worker is replaced after this many tasks; a new one loads the classifier and the SDKs again (seconds).
    "recycle": env.int("Q_RECYCLE", default=5000),
    "ack_failures": True,
    "catch_up": False,
    # Successful task results are not stored (-1): a row per task is write load at 50 failures/s, and AIMS keeps
    # the outcomes in its own tables. A positive number keeps that many per function. Failures are always kept.
    "save_limit": env.int("Q_SAVE_LIMIT", default=-1),
    "save_limit_per": "func",
    "cache": "default",
    "sync": env.bool("Q_SYNC", default=False),
}
if Q_CLUSTER["timeout"] >= Q_CLUSTER["retry"]:
    raise ImproperlyConfigured(
        f"Q_TIMEOUT ({Q_CLUSTER['timeout']}) must be below Q_RETRY ({Q_CLUSTER['retry']}), "
        "or a task still running would be handed to a second worker"
    )
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"

# Leases measured against the task timeout: how long one poll may hold its monitor before another may start, and
# how long a worker holds a batch of webhook deliveries (a worker that dies lets go of it then).
POLL_LEASE_SECONDS = env.int("POLL_LEASE_SECONDS", default=Q_CLUSTER["timeout"] + 60)
AIMS_WEBHOOK_CLAIM_SECONDS = env.int("AIMS_WEBHOOK_CLAIM_SECONDS", default=Q_CLUSTER["timeout"] + 60)

# Live updates are sent by task workers as well as by the web server, so the layer must cross processes.
# Embedded default: the Redis that `make run` starts on a socket under var/run. "memory://" selects the in-process
# layer (tests, or a single process that never pushes from workers).
CHANNEL_LAYER_URL = env.str("CHANNEL_LAYER_URL", default=REDIS_URL or f"unix://{VAR_DIR / 'run' / 'redis.sock'}")
CHANNEL_LAYERS: dict[str, dict[str, Any]]
if CHANNEL_LAYER_URL == "memory://":
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
else:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            # redis-py's default 5 s socket timeout equals channels_redis's blocking read: idle sockets would drop.
            "CONFIG": {"hosts": [{"address": CHANNEL_LAYER_URL, "socket_timeout": 10}], "prefix": "aims"},
        }
    }

# --- Email -----------------------------------------------------------------------------------------------------
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="AIMS <aims@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Secrets stored by AIMS ------------------------------------------------------------------------------------
# Fernet keys (newest first) that encrypt connection secrets at rest. Without them a key is derived from
# SECRET_KEY, which is fine for local use; production sets its own so SECRET_KEY can rotate independently.
AIMS_ENCRYPTION_KEYS = env.list("AIMS_ENCRYPTION_KEYS", default=[]) or [
    base64.urlsafe_b64encode(hashlib.sha256(f"aims-encryption:{SECRET_KEY}".encode()).digest()).decode()
]
# The pepper API keys are digested with (HMAC-SHA256): a stolen database alone cannot test guesses. Derived from
# SECRET_KEY unless set; production sets its own, since changing it invalidates every API key.
AIMS_API_KEY_PEPPER = (
    env.str("AIMS_API_KEY_PEPPER", default="") or hashlib.sha256(f"aims-api-keys:{SECRET_KEY}".encode()).hexdigest()
)

# --- AIMS's own: sources, intake, retention, analysis, incidents, notifications (aimsweb/settings_product.py) --
from aimsweb.settings_product import *  # noqa: E402, F403

# --- REST API (the api app): DRF, its OpenAPI document, Swagger UI and Redoc from AIMS's own static files -----------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["api.auth.BearerKeyAuthentication", "api.auth.BrowserSessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["api.permissions.ScopedRolePermission"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["api.parsers.StorableJSONParser"],
    "DEFAULT_THROTTLE_CLASSES": ["api.ratelimit.CallerRateThrottle"],
    "DEFAULT_SCHEMA_CLASS": "api.schema.AimsAutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "EXCEPTION_HANDLER": "api.problems.problem_exception_handler",
    "UNAUTHENTICATED_USER": None,
    "DATETIME_FORMAT": "iso-8601",
    "COERCE_DECIMAL_TO_STRING": False,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "AIMS API",
    "DESCRIPTION": "Incidents, their timeline, runs and tickets, pipelines and their health, data contracts. "
    "Errors are RFC 9457 problem details; see the README's API section.",
    "VERSION": "1.0.0",
    "OAS_VERSION": "3.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "PlatformKindEnum": "monitors.models.Connection.Kind",
        "RunStatusEnum": "monitors.models.PipelineRun.Status",
    },
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "api.schema.problem_responses_hook"],
}

# --- Auth ------------------------------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Passwords for the demo users `make run` creates (blank: generated once and printed).
AIMS_DEMO_PASSWORDS = {
    role: env.str(f"AIMS_DEMO_PASSWORD_{role.upper()}", default="") for role in ("viewer", "responder", "admin")
}
# Where `make run` starts the local ADF/Databricks simulator that the demo connections point at.
AIMS_SIMULATOR_URL = env.str("AIMS_SIMULATOR_URL", default="http://127.0.0.1:8765").rstrip("/")
# The only loopback origins a notification channel may post to (the local simulator's inbox); every other
# outbound request must reach a public address (aimsweb/outbound.py).
AIMS_OUTBOUND_LOOPBACK_ORIGINS = env.list("AIMS_OUTBOUND_LOOPBACK_ORIGINS", default=[AIMS_SIMULATOR_URL])
# Brute-force protection of /login/ and /admin/login/ (django-axes): after this many failed logins for one username
# (from any address), or from one address (whatever the usernames), that username or address is refused with 429
# until the cool-off has passed since its last failed attempt. Behind BEHIND_TLS_PROXY the address is the one the
# proxy appends to X-Forwarded-For (aimsweb.login_throttle).
AIMS_LOGIN_FAILURES_PER_USER = env.int("AIMS_LOGIN_FAILURES_PER_USER", default=5)
AIMS_LOGIN_FAILURES_PER_ADDRESS = env.int("AIMS_LOGIN_FAILURES_PER_ADDRESS", default=20)
AIMS_LOGIN_COOLOFF_MINUTES = env.int("AIMS_LOGIN_COOLOFF_MINUTES", default=15)
# The last one grants nothing: it remembers which permission was refused, for the 403 page (aimsweb.access).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "aimsweb.access.DeniedPermissionRecorder",
]
AXES_HANDLER = "aimsweb.login_throttle.LoginThrottleHandler"
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_FAILURE_LIMIT = AIMS_LOGIN_FAILURES_PER_USER  # the handler scales the per-address count to this limit
AXES_COOLOFF_TIME = AIMS_LOGIN_COOLOFF_MINUTES / 60  # hours
AXES_CLIENT_IP_CALLABLE = "aimsweb.login_throttle.client_address"
AXES_LOCKOUT_CALLABLE = "aimsweb.login_throttle.lockout_response"
AXES_VERBOSE = False
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# --- I18N, static ----------------------------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
# `collectstatic` (run by `make run`) gathers them there; the ASGI app serves that folder (aimsweb/asgi.py).

# --- Logging ---------------------------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    # Secrets out of every record (platform errors quote connection strings and tokens) before it is written.
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact_secrets"]}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "filters": {
        "forbidden_without_traceback": {"()": "aimsweb.request_log.ForbiddenWithoutTraceback"},
        "redact_secrets": {"()": "aimsweb.redact.RedactingFilter"},
    },
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "django.request": {"filters": ["forbidden_without_traceback"]},
        # Quiet by default: AIMS_VERBOSE_LOGS=true lets their per-request and per-task lines through again.
        **{name: {"level": "WARNING"} for name in AIMS_CHATTY_LOGGERS if not AIMS_VERBOSE_LOGS},  # noqa: F405
    },
}
