"""Pages of the insights app: the Health page (every role), the dashboard's health tiles (loaded by htmx from the
dashboard, which sits in a lower layer and knows them only by URL name), and a series' page with its notes form for
those who may annotate. A note answers with a redirect (303) and a message, or the page with the form's errors
(400)."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from aimsweb.htmx import partial_only
from aimsweb.http import AuthenticatedHttpRequest
from incidents.forms import form_errors_add
from insights.forms import SeriesNoteForm
from insights.models import Series, SeriesNote
from insights.pages.health import health_page, health_tiles
from insights.pages.series import ANNOTATE_PERMISSION, series_page
from insights.selectors import series_get
from insights.services.notes import series_note_add

HEALTH = "insights/health.html"
TILES = "insights/health_tiles.html"
SERIES = "insights/series.html"
VIEW_PERMISSION = "insights.view_series"


class HttpResponseSeeOther(HttpResponseRedirect):
    status_code = 303


@permission_required(VIEW_PERMISSION, raise_exception=True)
@require_GET
@vary_on_headers("HX-Request")
def health_view(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Every pipeline and table by health, worst first, filtered by kind and band and searched by name; only the
    results for an htmx request."""
    context = health_page(params=request.GET)
    return render(request, f"{HEALTH}#results" if partial_only(request) else HEALTH, context)


@permission_required(VIEW_PERMISSION, raise_exception=True)
@require_GET
def health_tiles_view(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The dashboard's health tiles, on their own (the dashboard loads them after it shows)."""
    return render(request, TILES, health_tiles())


def _series_or_404(series_id: int) -> Series:
    series = series_get(series_id=series_id)
    if series is None:
        raise Http404("No such series.")
    return series


@permission_required(VIEW_PERMISSION, raise_exception=True)
@require_GET
def series_view(request: AuthenticatedHttpRequest, series_id: int) -> HttpResponse:
    """One series: its chart over its band, season, state, settings, open incident and notes."""
    return render(request, SERIES, series_page(series=_series_or_404(series_id), user=request.user))


@permission_required(VIEW_PERMISSION, raise_exception=True)
@require_POST
def series_note_view(request: AuthenticatedHttpRequest, series_id: int) -> HttpResponse:
    """Mark a stretch of the series as expected, or exclude it: the series is scored again at once."""
    # Checked before the series is looked up: a forged post by someone without the right learns nothing.
    if not request.user.has_perm(ANNOTATE_PERMISSION):
        raise PermissionDenied
    series = _series_or_404(series_id)
    form = SeriesNoteForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            outcome = series_note_add(
                series_id=series.pk,
                kind=data["kind"],
                start=data["start"],
                end=data["end"],
                note=data["note"],
                user=request.user,
            )
        except ValidationError as error:
            form_errors_add(form, error)
        else:
            kind = SeriesNote.Kind(outcome.note.kind).label
            resolved = " Its incident is resolved." if outcome.resolved else ""
            messages.success(
                request,
                f"{kind}: {outcome.rescored} point{'' if outcome.rescored == 1 else 's'} changed verdict.{resolved}",
            )
            return HttpResponseSeeOther(reverse("insights:series", args=[series.pk]))
    context = series_page(series=_series_or_404(series_id), user=request.user, form=form)
    return render(request, SERIES, context, status=400)
