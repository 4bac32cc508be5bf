"""The on-call line of the incident page: who is on call now in the schedules its routes escalate to (every
schedule when they name none), from the request's one read of who is on call (see oncall.templatetags.oncall)."""

from django import template

from incidents.models import Incident
from incidents.services.notifications import routes_for
from oncall.templatetags.oncall import on_call_now

register = template.Library()


@register.inclusion_tag("incidents/includes/oncall_line.html", takes_context=True)
def incident_on_call(context, incident: Incident) -> dict:
    targeted = {
        step.oncall_schedule_id
        for route in routes_for(incident)
        for step in route.escalation_steps.all()
        if step.oncall_schedule_id is not None
    }
    schedules = on_call_now(context.get("request"))
    shown = [item for item in schedules if item.schedule_id in targeted] if targeted else schedules
    return {"schedules": shown}
