"""Jira Cloud as a ticket system: issues labelled with their incident's marker, moved by status category (never by a
transition's name or id: workflows differ per project), descriptions and comments in ADF."""

from datetime import UTC, datetime

from incidents.models import Incident
from tickets.clients.jira import JiraClient, JiraError, JiraIssue
from tickets.mapping import adf_document, description_text, incident_attributes, mapped_fields
from tickets.models import TicketRoute
from tickets.systems import CATEGORIES, CORRELATION, RemoteComment, RemoteTicket

MAX_SUMMARY = 255
MAX_HOPS = 3


def route_label(route: TicketRoute) -> str:
    return f"aims-route-{route.pk}"


class JiraSystem:
    def __init__(self, route: TicketRoute) -> None:
        self.route = route
        self.client = JiraClient(
            base_url=route.base_url, username=route.username, secret=route.get_secret(), is_simulator=route.is_simulator
        )

    def _ticket(self, issue: JiraIssue) -> RemoteTicket:
        correlation = next(
            (label for label in issue.labels if (m := CORRELATION.match(label)) and int(m.group(2)) == self.route.pk),
            "",
        )
        return RemoteTicket(
            key=issue.key,
            external_id=issue.id,
            url=self.client.issue_url(issue.key),
            status=issue.status,
            category=issue.category,
            correlation=correlation,
            updated=issue.updated,
        )

    def find(self, *, correlation: str) -> RemoteTicket | None:
        for issue in self.client.search_jql(f'labels = "{correlation}"'):
            return self._ticket(issue)
        return None

    def create(self, *, incident: Incident, correlation: str) -> RemoteTicket:
        if not self.route.jira_account_id:
            self._own_account_learn(self.client.myself())
        attributes = incident_attributes(incident)
        fields: dict = {
            "project": {"key": self.route.jira_project},
            "issuetype": {"name": self.route.jira_issue_type or "Task"},
            "summary": " ".join(incident.title.split())[:MAX_SUMMARY],
            "description": adf_document(description_text(attributes)),
            "labels": [correlation, route_label(self.route)],
        }
        priority = self.route.priority_map.get(incident.severity)
        if isinstance(priority, str) and priority:
            fields["priority"] = {"name": priority}
        for target, value in mapped_fields(self.route.field_mapping, attributes).items():
            fields[target] = adf_document(value) if target in ("description", "environment") else value
        ref = self.client.issue_create(fields=fields)
        return RemoteTicket(
            key=ref.key,
            external_id=ref.id,
            url=self.client.issue_url(ref.key),
            status="",
            category="new",
            correlation=correlation,
            updated=None,
        )

    def get(self, *, key: str, external_id: str) -> RemoteTicket:
        return self._ticket(self.client.issue_get(key))

    def move(self, *, key: str, external_id: str, category: str, incident: Incident) -> RemoteTicket:
        ticket = self.get(key=key, external_id=external_id)
        for _ in range(MAX_HOPS):
            if ticket.category == category:
                return ticket
            transitions = self.client.transitions(key)
            step = next((t for t in transitions if t.to_category == category), None)
            if step is None:
                # No direct way (e.g. To Do → Done in a workflow that goes through In Progress): a step between.
                low, high = sorted((CATEGORIES.index(ticket.category or "new"), CATEGORIES.index(category)))
                between = set(CATEGORIES[low + 1 : high])
                step = next((t for t in transitions if t.to_category in between), None)
            if step is None:
                raise JiraError(
                    f"Jira offers no transition from status {ticket.status!r} towards a {category} status "
                    f"(offered: {', '.join(t.name for t in transitions) or 'none'})"
                )
            try:
                self.client.transition(key, transition_id=step.id)
            except JiraError as exc:
                if exc.status != 400:
                    raise
                # Someone moved the issue since the transitions were read: read it again and choose again.
                ticket = self.get(key=key, external_id=external_id)
                continue
            ticket = RemoteTicket(
                key=ticket.key,
                external_id=ticket.external_id,
                url=ticket.url,
                status=step.to_status,
                category=step.to_category,
                correlation=ticket.correlation,
                updated=datetime.now(UTC),
            )
        if ticket.category != category:
            raise JiraError(f"Jira issue {key} did not reach a {category} status in {MAX_HOPS} transitions")
        return ticket

    def comment_add(self, *, key: str, external_id: str, text: str) -> str:
        comment = self.client.comment_add(key, body=adf_document(text))
        if not self.route.jira_account_id:
            self._own_account_learn(comment.author_account_id)
        return comment.id

    def _own_account_learn(self, account_id: str) -> None:
        """AIMS's own accountId, learnt before its first write: webhooks about its own changes name it."""
        if account_id:
            TicketRoute.objects.filter(pk=self.route.pk, jira_account_id="").update(jira_account_id=account_id[:128])
            self.route.jira_account_id = account_id[:128]

    def comments(self, *, key: str, external_id: str, since: datetime | None) -> list[RemoteComment]:
        return [
            RemoteComment(id=c.id, author=c.author_account_id, text=c.text, created=c.created)
            for c in self.client.comments(key)
            if since is None or c.created is None or c.created >= since
        ]

    def update(self, *, key: str, external_id: str, incident: Incident) -> None:
        fields: dict = {"summary": " ".join(incident.title.split())[:MAX_SUMMARY]}
        priority = self.route.priority_map.get(incident.severity)
        if isinstance(priority, str) and priority:
            fields["priority"] = {"name": priority}
        self.client.issue_update(key, fields=fields)

    def changed_since(self, *, since: datetime | None) -> list[RemoteTicket]:
        jql = f'labels = "{route_label(self.route)}"'
        if since is not None:
            jql += f' AND updated >= "{since.astimezone(UTC):%Y-%m-%d %H:%M}"'
        return [self._ticket(issue) for issue in self.client.search_jql(jql + " ORDER BY updated")]

    def is_own(self, author: str) -> bool:
        return self.route.own_account(author)
