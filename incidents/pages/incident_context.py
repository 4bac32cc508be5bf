"""The incident page's context panels: runbooks, past incidents with the same signature, the signature's
statistics and related open incidents (incidents.selectors.context), shaped for templates/incidents/includes/
context.html."""

from typing import Any

from aimsweb.durations import duration_text
from incidents.models import Incident
from incidents.selectors import incident_context


def incident_context_panel(incident: Incident) -> dict[str, Any]:
    """The selector's result plus what the template cannot word itself."""
    context = incident_context(incident=incident)
    median = context.facts.median_resolve if context.facts else None
    return {"ctx": context, "median_resolve": duration_text(median) if median is not None else ""}
