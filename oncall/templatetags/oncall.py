"""Who is on call, for the header and the incident page: read once per request however often it is shown."""

from django import template
from django.http import HttpRequest

from oncall.selectors import OnCallNow, on_call_now_list

register = template.Library()
HEADER_SCHEDULES = 2


def on_call_now(request: HttpRequest | None) -> list[OnCallNow]:
    """Every schedule with who is on call now, cached on the request (one read per page)."""
    if request is None:
        return on_call_now_list()
    cached = getattr(request, "_aims_on_call_now", None)
    if cached is None:
        cached = on_call_now_list()
        request._aims_on_call_now = cached  # type: ignore[attr-defined]
    return cached


@register.inclusion_tag("oncall/includes/header.html", takes_context=True)
def on_call_header(context) -> dict:
    """The first schedules and who is on call in each, for the header."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.has_perm("oncall.view_schedule"):
        return {"schedules": []}
    schedules = on_call_now(request)
    return {"schedules": schedules[:HEADER_SCHEDULES], "more": max(0, len(schedules) - HEADER_SCHEDULES)}
