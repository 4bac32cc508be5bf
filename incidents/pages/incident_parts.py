"""The incident page's "Affected pipelines" section (a storm's parts, each with its state) and its merge and split
actions."""

from typing import Any

from django import forms
from django.urls import reverse

from incidents.models import Incident
from incidents.part_forms import MergeIntoForm
from incidents.selectors.parts import incident_merge_targets, incident_part_list


def incident_parts_page(incident: Incident, *, merge_form: forms.Form | None = None) -> dict[str, Any]:
    """The parts as rows (pipeline, link, counts, state), how many pipelines are affected and still failing, whether
    a part may be split off (an open incident of two or more pipelines), and the merge form with its choices."""
    parts = list(incident_part_list(incident_id=incident.pk))
    rows = [
        {
            "part": part,
            "pipeline": part.pipeline,
            "pipeline_url": reverse("monitors:pipeline-detail", args=[part.pipeline_id]),
            "failing": part.recovered_at is None and incident.is_open,
        }
        for part in parts
    ]
    return {
        "rows": rows,
        "affected": len(rows),
        "failing": sum(1 for row in rows if row["failing"]),
        "can_split": incident.is_open and len(rows) > 1,
        "merge_form": merge_form or MergeIntoForm(auto_id="merge-%s"),
        "merge_targets": list(incident_merge_targets(incident_id=incident.pk)) if incident.is_open else [],
    }
