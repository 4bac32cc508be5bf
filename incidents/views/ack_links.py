"""The page a notification's signed "Acknowledge" link opens. GET shows the incident and one button; only the POST
(with the CSRF token) acknowledges.

Who may use it: a signed-in user who may acknowledge incidents (a Responder), whoever the link was sent to. The token
alone never acts: notification links are forwarded, unfurled by chat previews and kept in mail archives, so a bare
token would let anyone holding the message acknowledge in the on-call person's name, and a GET that acts would be
triggered by link scanners. The token binds the link to one incident and the generation (episode) that paged, and
expires: a link to another incident, an old episode, or after the incident was resolved does nothing."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse

from aimsweb.http import AuthenticatedHttpRequest
from incidents.ack_links import AckLinkError, ack_claim_read
from incidents.models import Incident
from incidents.selectors import incident_get
from incidents.services import Actor, incident_acknowledge
from incidents.views.incidents import HttpResponseSeeOther

TEMPLATE = "incidents/ack_link.html"


def _refuse(request: AuthenticatedHttpRequest, problem: str, status: int, incident: Incident | None = None):
    return render(request, TEMPLATE, {"problem": problem, "incident": incident}, status=status)


@permission_required("incidents.acknowledge_incident", raise_exception=True)
def incident_ack_link_view(request: AuthenticatedHttpRequest, incident_id: int, token: str) -> HttpResponse:
    try:
        claim = ack_claim_read(token)
    except AckLinkError as exc:
        return _refuse(request, str(exc), 410 if exc.expired else 400)
    if claim.incident_id != incident_id:
        return _refuse(request, "This acknowledge link is not valid (it belongs to another incident).", 400)
    incident = incident_get(incident_id=incident_id)
    if incident is None:
        return _refuse(request, "This incident no longer exists.", 404)
    if incident.status == Incident.Status.RESOLVED:
        return _refuse(request, "This incident is resolved: there is nothing to acknowledge.", 409, incident)
    if incident.generation != claim.generation:
        return _refuse(
            request,
            "This link was for an earlier episode of the incident; open it to see where it is now.",
            409,
            incident,
        )
    if request.method == "POST":
        try:
            incident_acknowledge(incident_id=incident.pk, actor=Actor.of_user(request.user))
        except ValidationError as exc:
            return _refuse(request, " ".join(exc.messages), 409, incident)
        messages.success(request, f"Acknowledged incident #{incident.pk}.")
        return HttpResponseSeeOther(reverse("incidents:detail", args=[incident.pk]))
    if request.method != "GET":
        return _refuse(request, "Use the button on this page.", 405, incident)
    return render(
        request, TEMPLATE, {"incident": incident, "sent_to_other": claim.user_id not in (None, request.user.pk)}
    )
