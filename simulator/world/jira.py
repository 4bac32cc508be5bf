"""The simulated Jira Cloud site: issues, comments, transitions, admin webhooks and the log of every write.

Every operation runs under the World lock (the caller holds it). A change by the API account or by a person (the
admin routes) queues a signed webhook to each registered receiver whose events and JQL filter match: real Jira
notifies about its API's own changes too, so a receiver must recognise its own writes.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from simulator import notify as notify_mod
from simulator.jira_jql import JqlError, parse_jql
from simulator.jira_shapes import JiraComment, JiraIssue, webhook_body
from simulator.jira_workflows import (
    API_ACCOUNT_ID,
    INITIAL_STATUS,
    PRIORITIES,
    PROJECTS,
    RESOLUTIONS,
    SUMMARY_MAX,
    Transition,
    adf_text,
    create_errors,
    is_adf_doc,
    labels_errors,
)
from simulator.timefmt import iso7

if TYPE_CHECKING:
    from simulator.world.state import World

WEBHOOK_EVENTS = ("jira:issue_created", "jira:issue_updated", "comment_created")
WEBHOOK_ATTEMPTS = 4


class JiraError(Exception):
    """Rendered as {"errorMessages": [...], "errors": {...}} with `status`."""

    def __init__(self, status: int, messages: list[str] | None = None, errors: dict[str, str] | None = None) -> None:
        super().__init__(messages or errors)
        self.status = status
        self.messages = messages or []
        self.errors = errors or {}


@dataclass(slots=True)
class JiraWebhook:
    id: int
    name: str
    url: str
    events: list[str]
    secret: str | None
    jql: str | None


class JiraSite:
    def __init__(self, seed: int) -> None:
        self.issues: dict[str, JiraIssue] = {}
        self.by_id: dict[str, JiraIssue] = {}
        self.webhooks: dict[int, JiraWebhook] = {}
        self.project_counters = dict.fromkeys(PROJECTS, 0)
        self.next_issue_id = 10000
        self.next_comment_id = 10000
        self.next_webhook_id = 1
        self.write_seq = 0
        self.rng = random.Random(f"{seed}/jira")
        # The base URL the API was last called on: issue `self` links in webhooks point there.
        self.base_url = "http://127.0.0.1"

    # ------------------------------------------------------------------------------------------ reads

    def find(self, key_or_id: str) -> JiraIssue:
        issue = self.issues.get(key_or_id.upper()) or self.by_id.get(key_or_id)
        if issue is None:
            raise JiraError(404, ["Issue does not exist or you do not have permission to see it."])
        return issue

    def search(self, jql: str) -> list[JiraIssue]:
        try:
            query = parse_jql(jql)
        except JqlError as exc:
            raise JiraError(400, [str(exc)]) from None
        found = [i for i in self.issues.values() if all(p(i.jql_view()) for p in query.predicates)]
        if query.order_by == "key":
            found.sort(key=lambda i: (i.project.key, int(i.key.split("-")[1])), reverse=query.descending)
        else:
            attr = "updated_us" if query.order_by == "updated" else "created_us"
            found.sort(key=lambda i: (getattr(i, attr), i.updated_seq, i.id), reverse=query.descending)
        return found

    # ----------------------------------------------------------------------------------------- writes

    def create(self, world: World, fields: Any, actor: str = API_ACCOUNT_ID) -> JiraIssue:
        messages, errors = create_errors(fields)
        if messages or errors:
            raise JiraError(400, messages, errors)
        project = PROJECTS[fields["project"]["key"]]
        now = world.now_us()
        self.project_counters[project.key] += 1
        issue = JiraIssue(
            id=str(self.next_issue_id),
            key=f"{project.key}-{self.project_counters[project.key]}",
            project=project,
            issue_type=fields["issuetype"]["name"],
            summary=fields["summary"],
            description=fields.get("description"),
            labels=list(fields.get("labels") or []),
            priority=(fields.get("priority") or {}).get("name", "Medium"),
            custom={k: v for k, v in fields.items() if k.startswith("customfield_")},
            status=INITIAL_STATUS[project.key],
            resolution=None,
            created_us=now,
            updated_us=now,
            updated_seq=0,
        )
        self.next_issue_id += 1
        self.issues[issue.key] = issue
        self.by_id[issue.id] = issue
        self._write(world, issue, actor, "create", f"{issue.issue_type} {issue.summary!r} labels={issue.labels}")
        self._emit(world, "jira:issue_created", issue, actor)
        return issue

    def transition(self, world: World, issue: JiraIssue, body: Any, actor: str = API_ACCOUNT_ID) -> None:
        ref = body.get("transition") if isinstance(body, dict) else None
        wanted = str(ref.get("id")) if isinstance(ref, dict) and ref.get("id") is not None else None
        if wanted is None:
            raise JiraError(400, ["Missing 'transition' identifier"])
        move = next((t for t in issue.project.available(issue.status) if t.id == wanted), None)
        if move is None:
            raise JiraError(
                400, [f"Transition id '{wanted}' is not valid for this issue."] if wanted else ["Invalid transition"]
            )
        resolution = None
        fields = body.get("fields") or {}
        if not isinstance(fields, dict):
            raise JiraError(400, errors={"fields": "fields must be an object"})
        if "resolution" in fields:
            ref = fields["resolution"]
            resolution = ref.get("name") if isinstance(ref, dict) else None
            if resolution not in RESOLUTIONS:
                raise JiraError(400, errors={"resolution": "Specify a valid resolution name or id"})
        unknown = [name for name in fields if name != "resolution"]
        if unknown:
            raise JiraError(
                400,
                errors={
                    unknown[0]: f"Field '{unknown[0]}' cannot be set. It is not on the appropriate screen, or unknown."
                },
            )
        self._move(world, issue, move, resolution, actor)

    def person_transition(
        self, world: World, issue: JiraIssue, *, status: str | None, category: str | None, person: str
    ) -> Transition:
        """A person clicks the transition leading to the status (by name) or status category asked for."""
        for move in issue.project.available(issue.status):
            target = issue.project.status(move.to)
            if (status is not None and target.name == status) or (category is not None and target.category == category):
                self._move(world, issue, move, None, person)
                return move
        raise JiraError(400, [f"No transition from {issue.status!r} to {status or category!r} in {issue.project.key}."])

    def comment(self, world: World, issue: JiraIssue, body: Any, actor: str = API_ACCOUNT_ID) -> JiraComment:
        if not is_adf_doc(body):
            raise JiraError(400, errors={"comment": "Comment body must be an Atlassian Document (ADF)."})
        comment = JiraComment(str(self.next_comment_id), actor, body, world.now_us())
        self.next_comment_id += 1
        issue.comments.append(comment)
        self._write(world, issue, actor, "comment", adf_text(body)[:200])
        self._emit(world, "comment_created", issue, actor, comment=comment)
        return comment

    def person_edit(self, world: World, issue: JiraIssue, fields: dict[str, Any], person: str) -> None:
        """A person edits summary, labels or priority in the UI (or the API account through `PUT .../issue/{key}`,
        the REST shape's `priority: {name}` read as its name)."""
        if isinstance(fields.get("priority"), dict):
            fields = {**fields, "priority": fields["priority"].get("name")}
        errors = labels_errors(fields.get("labels")) if "labels" in fields else {}
        if "priority" in fields and fields["priority"] not in PRIORITIES:
            errors["priority"] = f"priority must be one of {list(PRIORITIES)}"
        summary = fields.get("summary", "x")
        if not isinstance(summary, str) or not summary.strip() or len(summary) > SUMMARY_MAX:
            errors["summary"] = f"summary must be 1..{SUMMARY_MAX} characters"
        if errors:
            raise JiraError(400, errors=errors)
        items = []
        for name in ("summary", "labels", "priority"):
            if name not in fields:
                continue
            old = getattr(issue, name)
            new = fields[name]
            setattr(issue, name, list(new) if name == "labels" else str(new))
            items.append({"field": name, "fieldtype": "jira", "fromString": _text(old), "toString": _text(new)})
        if not items:
            raise JiraError(400, ["Give summary, labels or priority."])
        self._write(world, issue, person, "field", "; ".join(f"{i['field']}={i['toString']}" for i in items))
        self._emit(world, "jira:issue_updated", issue, person, changelog={"id": self._changelog_id(), "items": items})

    def register_webhook(self, body: dict[str, Any]) -> JiraWebhook:
        url = body.get("url")
        if not isinstance(url, str):
            raise JiraError(400, errors={"url": "url is required"})
        try:
            notify_mod.check_notify_url(url, False)
        except ValueError as exc:
            raise JiraError(400, errors={"url": str(exc)}) from None
        events = body.get("events") or []
        if not isinstance(events, list) or not events or any(e not in WEBHOOK_EVENTS for e in events):
            raise JiraError(400, errors={"events": f"events must be a non-empty list of {list(WEBHOOK_EVENTS)}"})
        filters = body.get("filters") or {}
        jql = filters.get("issue-related-events-section") if isinstance(filters, dict) else None
        if jql:
            self.search(str(jql))  # reject a filter the search would reject
        secret = body.get("secret")
        hook = JiraWebhook(self.next_webhook_id, str(body.get("name") or "webhook"), url, list(events), secret, jql)
        self.next_webhook_id += 1
        self.webhooks[hook.id] = hook
        return hook

    # -------------------------------------------------------------------------------------- internals

    def _move(self, world: World, issue: JiraIssue, move: Transition, resolution: str | None, actor: str) -> None:
        old_status = issue.project.status(issue.status)
        new_status = issue.project.status(move.to)
        old_resolution = issue.resolution
        issue.status = new_status.name
        issue.resolution = (resolution or "Done") if new_status.category == "done" else None
        items: list[dict[str, str | None]] = [
            {
                "field": "status",
                "fieldtype": "jira",
                "fieldId": "status",
                "from": old_status.id,
                "fromString": old_status.name,
                "to": new_status.id,
                "toString": new_status.name,
            }
        ]
        if issue.resolution != old_resolution:
            items.append(
                {
                    "field": "resolution",
                    "fieldtype": "jira",
                    "fieldId": "resolution",
                    "from": RESOLUTIONS.get(old_resolution or ""),
                    "fromString": old_resolution,
                    "to": RESOLUTIONS.get(issue.resolution or ""),
                    "toString": issue.resolution,
                }
            )
        summary = f"{move.id} {move.name!r}: {old_status.name} -> {new_status.name} ({new_status.category})"
        self._write(world, issue, actor, "transition", summary)
        self._emit(world, "jira:issue_updated", issue, actor, changelog={"id": self._changelog_id(), "items": items})

    def _changelog_id(self) -> str:
        return str(self.rng.randrange(10**5, 10**6))

    def _write(self, world: World, issue: JiraIssue, actor: str, what: str, summary: str) -> None:
        self.write_seq += 1
        now = world.now_us()
        issue.updated_us = now
        issue.updated_seq = self.write_seq
        who = "api" if actor == API_ACCOUNT_ID else "person"
        issue.writes.append(
            {"n": self.write_seq, "at": iso7(now), "who": who, "actor": actor, "what": what, "summary": summary}
        )

    def _emit(self, world: World, event: str, issue: JiraIssue, actor: str, **extra: Any) -> None:
        for hook in self.webhooks.values():
            if event not in hook.events or (
                hook.jql and not all(p(issue.jql_view()) for p in parse_jql(hook.jql).predicates)
            ):
                continue
            payload = webhook_body(event, issue, self.base_url, actor=actor, now_us=world.now_us(), **extra)
            raw = json.dumps(payload, separators=(",", ":")).encode()
            delivery_id = f"{self.rng.getrandbits(64):016x}"
            headers = {"X-Atlassian-Webhook-Identifier": delivery_id, "User-Agent": "Atlassian Webhook HTTP Client"}
            if hook.secret:
                digest = hmac.new(str(hook.secret).encode(), raw, hashlib.sha256).hexdigest()
                headers["X-Hub-Signature"] = f"sha256={digest}"
            item = notify_mod.Outgoing(
                "jira_webhook",
                hook.url,
                payload,
                headers,
                issue.key,
                body=raw,
                max_attempts=WEBHOOK_ATTEMPTS,
                delivery_id=delivery_id,
                retry_header="X-Atlassian-Webhook-Retry",
            )
            world.outbox.append(item)
            if world.faults.duplicate_delivery("jira"):
                world.outbox.append(replace(item, headers=dict(headers)))

    # ------------------------------------------------------------------------------------------ truth

    def truth(self) -> dict[str, Any]:
        issues = [
            {
                "key": i.key,
                "id": i.id,
                "project": i.project.key,
                "issue_type": i.issue_type,
                "summary": i.summary,
                "status": i.status,
                "category": i.category,
                "resolution": i.resolution,
                "labels": list(i.labels),
                "priority": i.priority,
                "custom": dict(i.custom),
                "comments": [
                    {
                        "id": c.id,
                        "author": c.author,
                        "who": "api" if c.author == API_ACCOUNT_ID else "person",
                        "text": adf_text(c.body),
                    }
                    for c in i.comments
                ],
                "writes": [dict(w) for w in i.writes],
            }
            for i in self.issues.values()
        ]
        hooks = [
            {"id": h.id, "name": h.name, "url": h.url, "events": h.events, "jql": h.jql} for h in self.webhooks.values()
        ]
        return {"count": len(issues), "issues": issues, "webhooks": hooks}


def _text(value: Any) -> str:
    return " ".join(value) if isinstance(value, list) else str(value)
