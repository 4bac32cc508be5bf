"""AIMS's own settings: pipeline sources, intake limits, retention, failure analysis, incidents and notifications.

aimsweb.settings imports them all; like it, this module reads the environment (after aimsweb.settings has read a
local .env file into it), and `.env.example` documents every variable.
"""

import environ
from django.core.exceptions import ImproperlyConfigured

env = environ.Env()

# --- Pipeline sources ------------------------------------------------------------------------------------------
MONITOR_CLIENTS = {
    "adf": "monitors.clients.adf.AdfClient",
    "databricks": "monitors.clients.databricks.DatabricksClient",
}
# Per-call timeout towards ADF and Databricks, and how often one call is tried before a poll gives up on it.
SOURCE_TIMEOUT_SECONDS = env.float("SOURCE_TIMEOUT_SECONDS", default=30.0)
SOURCE_MAX_ATTEMPTS = env.int("SOURCE_MAX_ATTEMPTS", default=6)
SOURCE_BACKOFF_MAX_SECONDS = env.float("SOURCE_BACKOFF_MAX_SECONDS", default=60.0)
# All the pauses of one call's retries together (Retry-After included): a platform asking for more gets a
# "throttled, retry after N s" error at once, and the poll or lookup moves on (monitors.clients.base).
AIMS_SOURCE_RETRY_BUDGET_SECONDS = env.float("AIMS_SOURCE_RETRY_BUDGET_SECONDS", default=10.0)
# How far back a monitor's first poll reads; how far ahead of our clock a platform's may be (how long one poll may
# hold its monitor is set with the task timeout, in aimsweb.settings).
POLL_INITIAL_LOOKBACK_HOURS = env.int("POLL_INITIAL_LOOKBACK_HOURS", default=24)
POLL_FUTURE_TOLERANCE_HOURS = env.int("POLL_FUTURE_TOLERANCE_HOURS", default=24 * 30)
# An Azure Monitor alert's lookup re-reads this much before the newest failure an earlier lookup of the pipeline
# saw, for runs the service lists late (monitors.services.alert_lookup_start). Every failure in it is read again
# (a pipeline failing often re-reads many), and a run listed later still is found by the next poll.
AIMS_ALERT_LOOKUP_OVERLAP_SECONDS = env.int("AIMS_ALERT_LOOKUP_OVERLAP_SECONDS", default=10)
# Webhook deliveries are processed in batches of up to this many (how long a worker holds one is set with the task
# timeout, in aimsweb.settings).
AIMS_WEBHOOK_BATCH = env.int("AIMS_WEBHOOK_BATCH", default=50)
# At most this many drains of webhook deliveries run at once (each takes what arrived while it worked).
AIMS_WEBHOOK_DRAINS = env.int("AIMS_WEBHOOK_DRAINS", default=2)

# --- Web server limits, access log, retention (webhook intake hardening) ---------------------------------------
# The web server (aimsweb/webserver.py) refuses a request body over this many bytes while it arrives (413), and a
# request whose headers and body have not all arrived this many seconds after its first line (408).
AIMS_HTTP_MAX_BODY_BYTES = env.int("AIMS_HTTP_MAX_BODY_BYTES", default=1024 * 1024)
AIMS_HTTP_REQUEST_TIMEOUT_SECONDS = env.float("AIMS_HTTP_REQUEST_TIMEOUT_SECONDS", default=30.0)
# Finished webhook deliveries, rejected ones and django-q2 task results are deleted once older than this (a daily
# schedule, or `manage.py prune`), this many rows per statement.
AIMS_WEBHOOK_RETENTION_DAYS = env.int("AIMS_WEBHOOK_RETENTION_DAYS", default=30)
AIMS_REJECTED_RETENTION_DAYS = env.int("AIMS_REJECTED_RETENTION_DAYS", default=7)
AIMS_TASK_RESULT_RETENTION_DAYS = env.int("AIMS_TASK_RESULT_RETENTION_DAYS", default=14)
AIMS_PRUNE_BATCH = env.int("AIMS_PRUNE_BATCH", default=1000)
# Metric points (insights) older than this are deleted daily: the detector reads six weeks, health two.
AIMS_POINT_RETENTION_DAYS = env.int("AIMS_POINT_RETENTION_DAYS", default=400)

# --- Failure analysis ----------------------------------------------------------------------------------------
# An LLM is used when a model is named; otherwise the offline classifier decides alone. Any OpenAI-compatible
# server works (OpenAI, Azure OpenAI's /openai/v1/ endpoint, a local one). The key never leaves this process except
# to that server.
AIMS_LLM_MODEL = env.str("AIMS_LLM_MODEL", default="")
AIMS_LLM_BASE_URL = env.str("AIMS_LLM_BASE_URL", default="")
AIMS_LLM_API_KEY = env.str("AIMS_LLM_API_KEY", default="")
AIMS_LLM_TIMEOUT_SECONDS = env.float("AIMS_LLM_TIMEOUT_SECONDS", default=20.0)
# Answers less confident than this are not used (the offline classifier stands in, recorded as such).
AIMS_LLM_MIN_CONFIDENCE = env.int("AIMS_LLM_MIN_CONFIDENCE", default=60)
# Prices in USD per million tokens, for the cost kept with each analysis.
AIMS_LLM_PRICE_INPUT_PER_MTOK = env.float("AIMS_LLM_PRICE_INPUT_PER_MTOK", default=0.0)
AIMS_LLM_PRICE_OUTPUT_PER_MTOK = env.float("AIMS_LLM_PRICE_OUTPUT_PER_MTOK", default=0.0)
# At most one LLM call per error signature within this window; later failures reuse that analysis.
AIMS_LLM_CACHE_HOURS = env.int("AIMS_LLM_CACHE_HOURS", default=24)
# Retries of a signature needed before its outcomes change the verdict.
AIMS_LEARNING_MIN_RETRIES = env.int("AIMS_LEARNING_MIN_RETRIES", default=5)

# --- Incidents, remediation, notifications ---------------------------------------------------------------------
# What makes two failures the same incident: "signature" (connection x pipeline x error signature) or "category"
# (pipeline x error class, coarser).
AIMS_INCIDENT_GROUPING = env.str("AIMS_INCIDENT_GROUPING", default="signature")
if AIMS_INCIDENT_GROUPING not in {"signature", "category"}:
    raise ImproperlyConfigured("AIMS_INCIDENT_GROUPING must be 'signature' or 'category'")
# Storms: with "signature" grouping, failures with the same signature on several pipelines of one connection count in
# one shared incident (listing the affected pipelines) while it was last seen within this many minutes; a pipeline
# failing that way later opens an incident of its own. 0 turns it off (one incident per pipeline and signature).
AIMS_STORM_WINDOW_MINUTES = env.int("AIMS_STORM_WINDOW_MINUTES", default=30)
if AIMS_STORM_WINDOW_MINUTES < 0:
    raise ImproperlyConfigured("AIMS_STORM_WINDOW_MINUTES must be 0 (off) or more")
# Failures that ended longer ago than this when AIMS first sees them (a first poll reading history, say) are analysed
# but open no incident and are not rerun; nor are failures a later successful run of the pipeline has superseded.
AIMS_TRIAGE_MAX_AGE_HOURS = env.int("AIMS_TRIAGE_MAX_AGE_HOURS", default=24)
# A failure this soon after its incident was resolved reopens it; later ones open a new incident.
AIMS_INCIDENT_REOPEN_MINUTES = env.int("AIMS_INCIDENT_REOPEN_MINUTES", default=60)
# A rerun claimed by a worker that has not reported back after this long is reconciled with the platform (the
# worker died): adopted if the platform has it, else started once. Longer than one platform call can take.
AIMS_RETRY_CLAIM_LEASE_SECONDS = env.int(
    "AIMS_RETRY_CLAIM_LEASE_SECONDS", default=int(SOURCE_TIMEOUT_SECONDS * SOURCE_MAX_ATTEMPTS) + 60
)
NOTIFICATION_SENDERS = {
    "teams": "incidents.notify.teams.TeamsSender",
    "slack": "incidents.notify.slack.SlackSender",
    "email": "incidents.notify.email.EmailSender",
    "webhook": "incidents.notify.webhook.WebhookSender",
}
# Per-request timeout towards Teams, Slack and webhook receivers; failed deliveries are tried this many times in
# all, with growing delays.
AIMS_NOTIFY_TIMEOUT_SECONDS = env.float("AIMS_NOTIFY_TIMEOUT_SECONDS", default=10.0)
AIMS_NOTIFY_MAX_ATTEMPTS = env.int("AIMS_NOTIFY_MAX_ATTEMPTS", default=6)

# --- REST API (api app) --------------------------------------------------------------------------------------------
# Requests per minute per API key (or per signed-in user); over it: 429 with Retry-After and RateLimit fields.
AIMS_API_RATE_PER_MINUTE = env.int("AIMS_API_RATE_PER_MINUTE", default=600)
# An Idempotency-Key's answer is replayed to retries with the same key and body for this long.
AIMS_API_IDEMPOTENCY_HOURS = env.int("AIMS_API_IDEMPOTENCY_HOURS", default=24)

# --- Outbound webhooks (webhooks app) --------------------------------------------------------------------------
# Subscribers' endpoints get every incident event they filter for, signed (Standard Webhooks and X-AIMS-*). One
# request waits this long at most; it is retried on a schedule of about 75 hours (5 s ... 24 h), each delay lengthened
# by up to this fraction at random so a receiver coming back is not hit by every sender at once.
AIMS_OUTBOUND_WEBHOOK_TIMEOUT_SECONDS = env.float("AIMS_OUTBOUND_WEBHOOK_TIMEOUT_SECONDS", default=15.0)
AIMS_OUTBOUND_WEBHOOK_JITTER = env.float("AIMS_OUTBOUND_WEBHOOK_JITTER", default=0.2)
# At most this many messages are delivered per run of the delivery task (every minute and after each change).
AIMS_OUTBOUND_WEBHOOK_BATCH = env.int("AIMS_OUTBOUND_WEBHOOK_BATCH", default=500)
# Delivered messages and their attempts are deleted once older than this (daily, AIMS_PRUNE_BATCH rows at a time).
AIMS_OUTBOUND_WEBHOOK_RETENTION_DAYS = env.int("AIMS_OUTBOUND_WEBHOOK_RETENTION_DAYS", default=30)

# --- Ticket sync (tickets app) -----------------------------------------------------------------------------------
# Per-request timeout towards Jira and ServiceNow (TLS is always verified).
AIMS_TICKET_TIMEOUT_SECONDS = env.float("AIMS_TICKET_TIMEOUT_SECONDS", default=10.0)
# A sync job is tried this many times, waiting from AIMS_TICKET_BACKOFF_SECONDS doubling up to the maximum (with
# jitter, never sooner than the system's Retry-After); then the ticket shows "sync failing" and the reconcile poll
# keeps trying.
AIMS_TICKET_MAX_ATTEMPTS = env.int("AIMS_TICKET_MAX_ATTEMPTS", default=8)
AIMS_TICKET_BACKOFF_SECONDS = env.float("AIMS_TICKET_BACKOFF_SECONDS", default=10.0)
AIMS_TICKET_BACKOFF_MAX_SECONDS = env.float("AIMS_TICKET_BACKOFF_MAX_SECONDS", default=900.0)
# How long a worker holds an incident's ticket while it calls out (longer than a few calls can take).
AIMS_TICKET_LEASE_SECONDS = env.int("AIMS_TICKET_LEASE_SECONDS", default=120)
# After a call that timed out (it may still be applied), nothing more is sent to that ticket for this long, so a
# retry never races the first call: a second ticket, or a stale status written over a newer one.
AIMS_TICKET_SETTLE_SECONDS = env.float("AIMS_TICKET_SETTLE_SECONDS", default=60.0)
# Incident-and-route pairs a worker run takes on, and jobs of one pair it carries, at most.
AIMS_TICKET_BATCH = env.int("AIMS_TICKET_BATCH", default=100)
# The reconcile poll reads tickets updated since its last watermark less this much.
AIMS_TICKET_RECONCILE_OVERLAP_SECONDS = env.int("AIMS_TICKET_RECONCILE_OVERLAP_SECONDS", default=300)
# Inbound Jira webhooks and ServiceNow callbacks larger than this are refused (413).
AIMS_TICKET_INBOUND_MAX_BYTES = env.int("AIMS_TICKET_INBOUND_MAX_BYTES", default=512 * 1024)
AIMS_TICKET_SYSTEMS = {
    "jira": "tickets.systems.jira.JiraSystem",
    "servicenow": "tickets.systems.servicenow.ServiceNowSystem",
}

# --- Logs --------------------------------------------------------------------------------------------------------
# Libraries that log every request they make or task they run (the Azure SDK's header dumps, databricks-sdk, urllib3,
# django-q2's per-task lines, the access log) log only warnings and errors unless this is true.
AIMS_VERBOSE_LOGS = env.bool("AIMS_VERBOSE_LOGS", default=False)
AIMS_CHATTY_LOGGERS = [
    "azure",  # azure.core.pipeline.policies.http_logging_policy: every request's and answer's headers
    "azure.core.pipeline.policies.http_logging_policy",
    "databricks.sdk",
    "urllib3",
    "django-q",
    "aims.access",
    "daphne",
]
