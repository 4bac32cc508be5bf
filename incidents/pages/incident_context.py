"""The incident page's context panels: runbooks, past incidents with the same signature, the signature's
statistics and related open incidents (incidents.selectors.context), shaped for templates/incidents/includes/
context.html."""

from functools import cached_property

from aimsweb.durations import duration_text
from incidents.models import Incident
from incidents.selectors import IncidentContext, incident_context


class IncidentContextPanel:
    """Read when the template first asks (a live update that re-renders other parts of the page reads nothing)."""

    def __init__(self, incident: Incident) -> None:
        self.incident = incident

    @cached_property
    def ctx(self) -> IncidentContext:
        return incident_context(incident=self.incident)

    @property
    def median_resolve(self) -> str:
        median = self.ctx.facts.median_resolve if self.ctx.facts else None
        return duration_text(median) if median is not None else ""


def incident_context_panel(incident: Incident) -> IncidentContextPanel:
    return IncidentContextPanel(incident)
