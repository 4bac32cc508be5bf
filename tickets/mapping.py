"""What a ticket says about its incident: the incident's attributes (a fixed list), an Admin's field mapping of
attributes, constants and templates, and the Jira document format (ADF) descriptions and comments are written in.

Templates are `{attribute}` placeholders and text, nothing more: no attribute access, indexing, conversion or format
spec, so an Admin's template can read only the attributes listed here, never settings or other rows."""

import string
from typing import Any

from django.conf import settings

from incidents.models import Incident

ATTRIBUTE_NAMES = (
    "title",
    "severity",
    "category",
    "status",
    "pipeline",
    "connection",
    "url",
    "occurrences",
    "opened_at",
    "summary",
    "root_cause",
)
MAPPING_TYPES = ("attribute", "constant", "template")
MAX_MAPPINGS = 30
MAX_VALUE = 2000
# Fields AIMS sets itself (the marker that finds the ticket again, where it is filed): a mapping may not replace them.
RESERVED_TARGETS = {
    "jira": {"project", "issuetype", "labels"},
    "servicenow": {"correlation_id", "correlation_display", "state", "sys_id", "number"},
}
TARGET_CHARS = set(string.ascii_letters + string.digits + "_")


def incident_attributes(incident: Incident) -> dict[str, str]:
    """The incident as the fixed list of text attributes mappings and templates read."""
    analysis = incident.analysis
    return {
        "title": incident.title,
        "severity": incident.severity,
        "category": incident.category,
        "status": incident.status,
        "pipeline": incident.pipeline.name if incident.pipeline else "",
        "connection": incident.connection.name if incident.connection else "",
        "url": f"{settings.AIMS_BASE_URL}{incident.get_absolute_url()}",
        "occurrences": str(incident.occurrence_count),
        "opened_at": incident.opened_at.isoformat(),
        "summary": analysis.summary if analysis else "",
        "root_cause": analysis.root_cause if analysis else "",
    }


def template_problem(template: Any) -> str:
    """Why `template` cannot be rendered ("" when it can): only {attribute} placeholders of the fixed list."""
    if not isinstance(template, str):
        return "A template is text."
    if len(template) > MAX_VALUE:
        return f"At most {MAX_VALUE} characters."
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError as exc:
        return f"Unbalanced braces ({exc}); write {{{{ and }}}} for literal braces."
    for _, name, spec, conversion in parts:
        if name is None:
            continue
        if name not in ATTRIBUTE_NAMES:
            return f"Unknown placeholder {{{name}}}; use one of: {', '.join(ATTRIBUTE_NAMES)}."
        if spec or conversion:
            return f"Write {{{name}}} plainly (no format spec or conversion)."
    return ""


def template_render(template: str, attributes: dict[str, str]) -> str:
    """The template with each {attribute} replaced by its text; an unusable template renders as ""."""
    if template_problem(template):
        return ""
    out = []
    for literal, name, _, _ in string.Formatter().parse(template):
        out.append(literal)
        if name is not None:
            out.append(attributes.get(name, ""))
    return "".join(out)


def mapping_problems(mapping: Any, *, system: str) -> str:
    """Why a route's field mapping cannot be used ("" when it can), naming the entry."""
    if not isinstance(mapping, list):
        return "Give a list of {target, type, value} entries."
    if len(mapping) > MAX_MAPPINGS:
        return f"At most {MAX_MAPPINGS} entries."
    for number, entry in enumerate(mapping, start=1):
        if not isinstance(entry, dict) or set(entry) != {"target", "type", "value"}:
            return f"Entry {number}: give exactly target, type and value."
        target, kind, value = entry["target"], entry["type"], entry["value"]
        if not isinstance(target, str) or not target or not set(target) <= TARGET_CHARS or len(target) > 80:
            return f"Entry {number}: the target is a field name (letters, digits, underscores)."
        if target in RESERVED_TARGETS.get(system, set()):
            return f"Entry {number}: AIMS sets {target} itself."
        if kind not in MAPPING_TYPES:
            return f"Entry {number}: type must be one of {', '.join(MAPPING_TYPES)}."
        if not isinstance(value, str) or len(value) > MAX_VALUE:
            return f"Entry {number}: the value is text of at most {MAX_VALUE} characters."
        if kind == "attribute" and value not in ATTRIBUTE_NAMES:
            return f"Entry {number}: unknown attribute {value!r}; use one of: {', '.join(ATTRIBUTE_NAMES)}."
        if kind == "template":
            problem = template_problem(value)
            if problem:
                return f"Entry {number}: {problem}"
    return ""


def mapped_fields(mapping: list[dict], attributes: dict[str, str]) -> dict[str, str]:
    """The mapping's fields with their values for one incident."""
    fields = {}
    for entry in mapping:
        if entry["type"] == "attribute":
            fields[entry["target"]] = attributes.get(entry["value"], "")
        elif entry["type"] == "constant":
            fields[entry["target"]] = entry["value"]
        else:
            fields[entry["target"]] = template_render(entry["value"], attributes)
    return fields


def description_text(attributes: dict[str, str]) -> str:
    """The default description of a ticket: what the analysis says and where to see the incident."""
    lines = [attributes["summary"] or attributes["title"]]
    if attributes["root_cause"]:
        lines.append(f"Root cause: {attributes['root_cause']}")
    where = " · ".join(part for part in (attributes["pipeline"], attributes["connection"]) if part)
    if where:
        lines.append(f"Pipeline: {where}")
    lines.append(f"Severity {attributes['severity']}, category {attributes['category']}.")
    lines.append(f"Incident in AIMS: {attributes['url']}")
    return "\n".join(lines)


# --- Atlassian Document Format ------------------------------------------------------------------------------------


def adf_document(text: str) -> dict:
    """Plain text as an ADF document: one paragraph per line (empty lines dropped; ADF refuses empty text nodes)."""
    paragraphs = [
        {"type": "paragraph", "content": [{"type": "text", "text": line}]} for line in text.splitlines() if line.strip()
    ]
    return {"type": "doc", "version": 1, "content": paragraphs or [{"type": "paragraph", "content": []}]}


def adf_text(node: Any, *, depth: int = 0) -> str:
    """The text of an ADF document (paragraphs on lines of their own), whatever nodes it holds; anything that is not
    ADF gives its text when it is a string, else ""."""
    if isinstance(node, str):
        return node
    if depth > 32 or not isinstance(node, dict):
        return ""
    if node.get("type") == "text":
        return str(node.get("text", ""))
    if node.get("type") == "hardBreak":
        return "\n"
    content = node.get("content")
    if not isinstance(content, list):
        return ""
    parts = [adf_text(child, depth=depth + 1) for child in content]
    separator = "\n" if node.get("type") in ("doc", "bulletList", "orderedList", "listItem", "table") else ""
    return separator.join(part for part in parts if part or not separator).strip()
