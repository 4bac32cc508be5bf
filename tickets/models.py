"""Ticket routes (where incidents open tickets, Admin-edited), the outbox of sync jobs, the tie between an incident,
its route and its ticket, the comments carried either way and the inbound deliveries already taken."""

import fnmatch
import secrets

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from aimsweb.choices import ErrorCategory, Severity
from aimsweb.crypto import decrypt_secret, encrypt_secret
from aimsweb.models import TimeStampedModel
from aimsweb.outbound import OutboundPolicy, url_problem
from incidents.models import Incident, Occurrence, TicketLink
from monitors.secrets import EnvOrStoredSecret, secret_variable_problem
from tickets.mapping import mapping_problems, template_problem

SERVICENOW_CLOSE_CODES = ("Solution provided", "Workaround provided", "Resolved by caller", "Duplicate", "Not Solved")
SERVICENOW_LEVELS = ("1", "2", "3")


def inbound_secret_new() -> str:
    return secrets.token_urlsafe(32)


class TicketRoute(EnvOrStoredSecret, TimeStampedModel):
    """Where the incidents it applies to open a ticket, and how the ticket is filled in and kept in step. The
    credential (Jira API token, ServiceNow password) is stored encrypted or named as an AIMS_CONN_ variable."""

    class System(models.TextChoices):
        JIRA = "jira", "Jira Cloud"
        SERVICENOW = "servicenow", "ServiceNow"

    name = models.SlugField(max_length=60, unique=True)
    system = models.CharField(max_length=12, choices=System.choices)
    enabled = models.BooleanField(default=True)
    base_url = models.URLField(
        max_length=300, help_text="e.g. https://example.atlassian.net or https://x.service-now.com"
    )
    is_simulator = models.BooleanField(default=False, help_text="Points at the local simulator (plain http allowed).")
    username = models.CharField(max_length=200, help_text="Jira: the API account's email. ServiceNow: the user name.")
    secret_env_var = models.CharField(
        max_length=100, blank=True, help_text="Name of an AIMS_CONN_ environment variable holding the token/password."
    )
    secret_encrypted = models.TextField(blank=True, editable=False)
    inbound_secret_encrypted = models.TextField(blank=True, editable=False)
    # Which incidents it applies to.
    min_severity = models.CharField(max_length=10, choices=Severity.choices, default=Severity.HIGH)
    sources = models.JSONField(default=list, blank=True, help_text='Occurrence sources, e.g. ["pipeline_run"]; [] all.')
    categories = models.JSONField(default=list, blank=True, help_text='Error categories, e.g. ["code"]; [] all.')
    pipeline_pattern = models.CharField(
        max_length=200, blank=True, help_text="Shell-style pattern on the pipeline name, e.g. sales_*; blank: all."
    )
    # Target.
    jira_project = models.CharField(max_length=20, blank=True, help_text="Jira project key, e.g. OPS.")
    jira_issue_type = models.CharField(max_length=60, blank=True, default="Task")
    jira_account_id = models.CharField(
        max_length=128, blank=True, help_text="The API account's accountId (learnt from its first comment if blank)."
    )
    servicenow_table = models.CharField(max_length=80, default="incident", blank=True)
    field_mapping = models.JSONField(
        default=list,
        blank=True,
        help_text='[{"target": "customfield_10010", "type": "attribute|constant|template", "value": "..."}]',
    )
    priority_map = models.JSONField(
        default=dict,
        blank=True,
        help_text='Severity → Jira priority name ({"critical": "Highest"}) or ServiceNow {"critical": ["1", "1"]} '
        "(urgency, impact).",
    )
    close_code = models.CharField(max_length=40, blank=True, default="Solution provided", help_text="ServiceNow only.")
    close_notes_template = models.CharField(
        max_length=500, blank=True, default="Resolved in AIMS: {title}", help_text="ServiceNow only; {attribute} names."
    )
    comment_sync = models.BooleanField(default=True, help_text="Carry comments both ways.")
    reconciled_until = models.DateTimeField(null=True, blank=True, editable=False, help_text="Reconcile watermark.")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.secret_env_var:
            problem = secret_variable_problem(self.secret_env_var)
            if problem:
                errors["secret_env_var"] = problem
        problem = url_problem(self.base_url or "", OutboundPolicy.for_connection(is_simulator=self.is_simulator))
        if problem:
            errors["base_url"] = f"AIMS cannot send to this URL: {problem}."
        if self.system == self.System.JIRA and not self.jira_project:
            errors["jira_project"] = "Give the Jira project key, e.g. OPS."
        if self.jira_project and not self.jira_project.replace("_", "").isalnum():
            errors["jira_project"] = "A Jira project key is letters, digits and underscores."
        for name in ("sources", "categories"):
            value = getattr(self, name)
            if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
                errors[name] = "Give a list of names, e.g. [] for all."
        if isinstance(self.sources, list):
            unknown = set(self.sources) - set(Occurrence.Source.values)
            if unknown and "sources" not in errors:
                errors["sources"] = f"Unknown source(s): {', '.join(sorted(unknown))}."
        if isinstance(self.categories, list):
            unknown = set(self.categories) - set(ErrorCategory.values)
            if unknown and "categories" not in errors:
                errors["categories"] = f"Unknown category(ies): {', '.join(sorted(unknown))}."
        problem = mapping_problems(self.field_mapping, system=self.system)
        if problem:
            errors["field_mapping"] = problem
        problem = self._priority_map_problem()
        if problem:
            errors["priority_map"] = problem
        if self.system == self.System.SERVICENOW:
            if self.close_code not in SERVICENOW_CLOSE_CODES:
                errors["close_code"] = f"Use one of ServiceNow's close codes: {', '.join(SERVICENOW_CLOSE_CODES)}."
            problem = template_problem(self.close_notes_template)
            if problem or not self.close_notes_template.strip():
                errors["close_notes_template"] = problem or "ServiceNow requires close notes to resolve."
            if not self.servicenow_table.replace("_", "").isalnum():
                errors["servicenow_table"] = "A table name is letters, digits and underscores."
        if errors:
            raise ValidationError(errors)

    def _priority_map_problem(self) -> str:
        if not isinstance(self.priority_map, dict):
            return 'Give an object keyed by severity, e.g. {"critical": "Highest"}.'
        unknown = set(self.priority_map) - set(Severity.values)
        if unknown:
            return f"Unknown severity(ies): {', '.join(sorted(unknown))}."
        for severity, value in self.priority_map.items():
            if self.system == self.System.SERVICENOW:
                if not (isinstance(value, list) and len(value) == 2 and all(v in SERVICENOW_LEVELS for v in value)):
                    return f'{severity}: give [urgency, impact], each "1", "2" or "3".'
            elif not (isinstance(value, str) and 0 < len(value) <= 60):
                return f"{severity}: give a Jira priority name."
        return ""

    def applies_to(self, incident: Incident) -> bool:
        """Whether an incident of this severity, source, category and pipeline opens a ticket here."""
        ranks = Severity.ordered()
        severity = incident.severity if incident.severity in Severity.values else Severity.MEDIUM
        if ranks.index(Severity(severity)) < ranks.index(Severity(self.min_severity)):
            return False
        if self.sources and incident.source not in self.sources:
            return False
        if self.categories and incident.category not in self.categories:
            return False
        if self.pipeline_pattern:
            name = incident.pipeline.name if incident.pipeline_id and incident.pipeline else ""
            return fnmatch.fnmatchcase(name, self.pipeline_pattern)
        return True

    @property
    def system_label(self) -> str:
        """How the ticket's system is named on the incident's links."""
        return "Jira" if self.system == self.System.JIRA else "ServiceNow"

    def set_inbound_secret(self, plaintext: str) -> None:
        self.inbound_secret_encrypted = encrypt_secret(plaintext) if plaintext else ""

    def get_inbound_secret(self) -> str:
        return decrypt_secret(self.inbound_secret_encrypted) if self.inbound_secret_encrypted else ""

    def own_account(self, author: str) -> bool:
        """Whether `author` (a Jira accountId or email, a ServiceNow user name) is AIMS's own API account here."""
        if not author:
            return False
        if self.system == self.System.JIRA:
            return author in {self.jira_account_id, self.username} - {""}
        return author == self.username

    def correlation(self, incident_id: int) -> str:
        """The marker that finds this incident's ticket again (a Jira label, ServiceNow correlation_id)."""
        return f"aims-incident-{incident_id}-{self.pk}"


class TicketRouteLink(TimeStampedModel):
    """One incident on one route: at most one ticket, reused when the incident is reopened. The row is claimed
    (lease) by the worker that syncs it, so two workers never call out for the same ticket at once."""

    route = models.ForeignKey(TicketRoute, on_delete=models.CASCADE, related_name="links")
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="+")
    link = models.OneToOneField(TicketLink, null=True, blank=True, on_delete=models.SET_NULL, related_name="route_link")
    create_attempts = models.PositiveIntegerField(default=0, help_text="Creates tried: after one, search first.")
    remote_category = models.CharField(max_length=20, blank=True, help_text="new, indeterminate or done, as last seen.")
    unsettled_until = models.DateTimeField(
        null=True, blank=True, help_text="A call timed out: nothing more is sent before then (it may still land)."
    )
    lease_token = models.CharField(max_length=40, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["route", "incident"], name="ticket_route_link_unique")]

    def __str__(self) -> str:
        return f"{self.route} · incident {self.incident_id}"


class TicketSyncJob(TimeStampedModel):
    """The outbox: one change to carry to one route's ticket, written in the transaction of the timeline event it
    comes from; processed in order per incident and route, retried with backoff."""

    class Action(models.TextChoices):
        OPEN = "open", "Open the ticket"
        TRANSITION = "transition", "Move the ticket"
        COMMENT = "comment", "Add a comment"
        UPDATE = "update", "Update fields"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DONE = "done", "Done"
        FAILED = "failed", "Failed (retried by the reconcile poll)"
        SKIPPED = "skipped", "Skipped"

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="+")
    route = models.ForeignKey(TicketRoute, on_delete=models.CASCADE, related_name="jobs")
    event_id = models.BigIntegerField(null=True, blank=True, help_text="The timeline event it carries, if any.")
    action = models.CharField(max_length=12, choices=Action.choices)
    payload = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["route", "event_id"], condition=Q(event_id__isnull=False), name="ticket_job_once_per_event"
            )
        ]
        indexes = [
            models.Index(fields=["status", "route", "incident", "id"], name="ticket_job_queue_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} · incident {self.incident_id} · {self.route}"


class TicketComment(models.Model):
    """A comment carried between an incident and its ticket, by the ticket's own id: never carried twice, and one
    AIMS wrote is never taken back in."""

    class Direction(models.TextChoices):
        OUT = "out", "AIMS → ticket"
        IN = "in", "ticket → AIMS"

    route_link = models.ForeignKey(TicketRouteLink, on_delete=models.CASCADE, related_name="comments")
    remote_id = models.CharField(max_length=64)
    direction = models.CharField(max_length=3, choices=Direction.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["route_link", "remote_id"], name="ticket_comment_once")]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} {self.remote_id}"


class InboundDelivery(models.Model):
    """A webhook or callback taken in, by the sender's delivery id: a retried or doubled delivery is taken once."""

    route = models.ForeignKey(TicketRoute, on_delete=models.CASCADE, related_name="+")
    delivery_id = models.CharField(max_length=200)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["route", "delivery_id"], name="ticket_inbound_once")]

    def __str__(self) -> str:
        return self.delivery_id
