"""The API keys page (/account/api-keys/): a person's own keys, a form to create one (shown once, in the answer to
the creating POST and never again), and revoke. Every role may hold keys within its role."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from aimsweb.http import AuthenticatedHttpRequest
from api.forms import ApiKeyCreateForm
from api.models import ApiKey
from api.services.keys import api_key_create, api_key_revoke
from incidents.forms import form_errors_add

PAGE = "api/api_keys.html"


class HttpResponseSeeOther(HttpResponseRedirect):
    status_code = 303


def _page(request: AuthenticatedHttpRequest, form: ApiKeyCreateForm, **context) -> dict:
    keys = ApiKey.objects.filter(user=request.user).only(
        "id", "name", "prefix", "scopes", "created_at", "last_used_at", "expires_at", "revoked_at", "user_id"
    )
    return {"keys": keys, "form": form, **context}


@require_http_methods(["GET", "POST"])
def api_keys_view(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The caller's keys; a POST creates one and answers with the page showing its plaintext this once (400 with the
    form's errors when refused)."""
    if request.method == "GET":
        return render(request, PAGE, _page(request, ApiKeyCreateForm(user=request.user)))
    form = ApiKeyCreateForm(request.POST, user=request.user)
    if form.is_valid():
        try:
            key, plaintext = api_key_create(
                user=request.user,
                name=form.cleaned_data["name"],
                scopes=form.cleaned_data["scopes"],
                created_by=request.user,
                expires_in_days=form.cleaned_data["expires_in_days"],
            )
        except ValidationError as error:
            form_errors_add(form, error)
        else:
            context = _page(request, ApiKeyCreateForm(user=request.user), new_key=key, plaintext=plaintext)
            return render(request, PAGE, context, status=201)
    return render(request, PAGE, _page(request, form), status=400)


@require_POST
def api_key_revoke_view(request: AuthenticatedHttpRequest, key_id: int) -> HttpResponse:
    """Revoke one of the caller's keys (an Admin may revoke anyone's); another's key is 404 to anyone else."""
    try:
        key = api_key_revoke(key_id=key_id, by=request.user)
    except (ApiKey.DoesNotExist, PermissionDenied):
        raise Http404("No such key.") from None
    messages.success(request, f"Revoked {key.name} ({key.prefix}…): it no longer works.")
    return HttpResponseSeeOther(reverse("api-keys"))
