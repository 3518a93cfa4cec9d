"""The Webhooks tab. Every action is one call of the management API (webhooks_app/client.py).

Full pages for plain requests, and for htmx requests only the part that changed: a card, the
logs section or the modal's content. See ../shared/STYLE.md.
"""

import math
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import reswap, retarget, trigger_client_event
from django_ratelimit.core import get_usage

from webhooks_app.client import ENVIRONMENTS, ManagementApi, ManagementApiError
from webhooks_app.errors import error_response
from webhooks_app.forms import WebhookUrlForm

PAGE_SIZES = (10, 25, 50, 100)
LABELS = {"sandbox": "Sandbox", "production": "Production"}


def _environment(value: str) -> str:
    if value not in ENVIRONMENTS:
        raise Http404("No such environment")
    return value


def _managed_environment(request: HttpRequest, environment: str) -> str:
    """The environment of a change, after checking that it exists and that the user manages webhooks."""
    environment = _environment(environment)
    if not request.user.has_perm("webhooks_app.manage_webhooks"):
        raise PermissionDenied("Only managers can change webhooks or reveal secrets.")
    return environment


def _int(value: str | None, default: int) -> int:
    try:
        return int(value or default)
    except ValueError:
        return default


def _mask(secret: str) -> str:
    return "•" * 12 + secret[-4:]


def _card_context(request: HttpRequest, environment: str, webhook: dict | None, error: str | None = None) -> dict:
    return {
        "environment": environment,
        "label": LABELS[environment],
        "webhook": webhook,
        "masked_secret": _mask(webhook["secret"]) if webhook else "",
        "card_error": error,
        "is_manager": request.user.has_perm("webhooks_app.manage_webhooks"),
    }


def _logs_context(request: HttpRequest, api: ManagementApi) -> dict[str, Any]:
    environment = request.GET.get("env", "sandbox")
    environment = environment if environment in ENVIRONMENTS else "sandbox"
    size = _int(request.GET.get("size"), 10)
    size = size if size in PAGE_SIZES else 10
    page = min(max(1, _int(request.GET.get("page"), 1)), 10**9)
    context: dict[str, Any] = {
        "env": environment,
        "size": size,
        "page": page,
        "sizes": PAGE_SIZES,
        "environments": [(e, LABELS[e]) for e in ENVIRONMENTS],
        "rows": [],
        "logs_error": None,
        "pages": 1,
        "total": 0,
        "is_manager": request.user.has_perm("webhooks_app.manage_webhooks"),
    }
    try:
        data = api.logs(environment, offset=(page - 1) * size, limit=size)
    except ManagementApiError as e:
        context["logs_error"] = f"Loading the {LABELS[environment]} logs failed: {e}"
        return context
    total = data["pagination"]["total_items"]
    context.update(rows=data["items"], total=total, pages=max(1, math.ceil(total / size)))
    return context


@require_GET
@login_required
def webhooks_tab(request: HttpRequest) -> HttpResponse:
    api = ManagementApi()
    logs = _logs_context(request, api)
    if request.htmx and request.htmx.target == "logs":
        return render(request, "webhooks_app/_logs.html", logs)
    cards = []
    for environment in ENVIRONMENTS:
        try:
            cards.append(_card_context(request, environment, api.get_webhook(environment)))
        except ManagementApiError as e:
            cards.append(
                _card_context(request, environment, None, f"Loading the {LABELS[environment]} webhook failed: {e}")
            )
    return render(request, "webhooks_app/webhooks_tab.html", {"cards": cards, **logs})


def _card_response(request: HttpRequest, environment: str, webhook: dict | None, message: str) -> HttpResponse:
    """After a change: the card, swapped in place, and the modal closed."""
    if not request.htmx:
        return redirect(reverse("webhooks_tab"))
    response = render(request, "webhooks_app/_environment_card.html", _card_context(request, environment, webhook))
    response = reswap(retarget(response, f"#card-{environment}"), "outerHTML")
    return trigger_client_event(response, "webhooks:changed", {"message": message})


def _modal(request: HttpRequest, template: str, context: dict, status: int = 200) -> HttpResponse:
    """The modal's content for htmx, or the same content as a page of its own without JavaScript."""
    context = {**context, "content_template": template}
    if request.htmx:
        response = render(request, template, context, status=status)
        return reswap(retarget(response, "#modal-content"), "innerHTML")
    return render(request, "webhooks_app/modal_page.html", context, status=status)


def _api_failure(request: HttpRequest, environment: str, action: str, error: ManagementApiError) -> HttpResponse:
    return _modal(
        request,
        "webhooks_app/_action_failed.html",
        {"label": LABELS[environment], "action": action, "error": error.message},
        status=502,
    )


@require_http_methods(["GET", "POST"])
@login_required
def generate_key(request: HttpRequest, environment: str) -> HttpResponse:
    environment = _managed_environment(request, environment)
    form = WebhookUrlForm(request.POST or None, initial={"url": request.GET.get("url", "")})
    context = {
        "form": form,
        "environment": environment,
        "label": LABELS[environment],
        "updating": bool(request.GET.get("url") or request.POST.get("updating")),
    }
    if request.method == "POST" and form.is_valid():
        try:
            webhook = ManagementApi().put_webhook(environment, form.cleaned_data["url"])
        except ManagementApiError as e:
            if not e.field_errors and e.status != 400:
                return _api_failure(request, environment, "Saving the webhook", e)
            for message in e.field_errors.get("url") or [e.message]:
                form.add_error("url", message)
        else:
            return _card_response(request, environment, webhook, f"{LABELS[environment]} webhook saved.")
    status = 400 if request.method == "POST" else 200
    return _modal(request, "webhooks_app/_generate_key_form.html", context, status=status)


@require_POST
@login_required
def test_connection(request: HttpRequest, environment: str) -> HttpResponse:
    environment = _managed_environment(request, environment)
    # Each test connection makes a real request to the receiver: a person gets a few a minute.
    usage = get_usage(
        request, group="test-connection", key="user", rate=settings.TEST_CONNECTION_RATE_LIMIT, increment=True
    )
    if usage is not None and usage["should_limit"]:
        limited = error_response(request, "Too many test connections; try again in a minute.", 429)
        limited["Retry-After"] = str(max(1, usage["time_left"]))
        return limited
    try:
        result = ManagementApi().test_connection(environment)
    except ManagementApiError as e:
        return _api_failure(request, environment, "The test connection", e)
    response = _modal(
        request,
        "webhooks_app/_test_result.html",
        {"label": LABELS[environment], "environment": environment, "result": result},
    )
    return trigger_client_event(response, "logs:refresh", {})


@require_http_methods(["GET", "POST"])
@login_required
def regenerate_secret(request: HttpRequest, environment: str) -> HttpResponse:
    environment = _managed_environment(request, environment)
    if request.method == "GET":
        return _modal(request, "webhooks_app/_confirm.html", _confirm_context(environment, "regenerate"))
    try:
        webhook = ManagementApi().regenerate_secret(environment)
    except ManagementApiError as e:
        return _api_failure(request, environment, "Regenerating the secret", e)
    return _card_response(request, environment, webhook, f"{LABELS[environment]} secret regenerated.")


@require_http_methods(["GET", "POST"])
@login_required
def delete_webhook(request: HttpRequest, environment: str) -> HttpResponse:
    environment = _managed_environment(request, environment)
    if request.method == "GET":
        return _modal(request, "webhooks_app/_confirm.html", _confirm_context(environment, "delete"))
    try:
        ManagementApi().delete_webhook(environment)
    except ManagementApiError as e:
        return _api_failure(request, environment, "Deleting the webhook", e)
    return _card_response(request, environment, None, f"{LABELS[environment]} webhook deleted.")


def _confirm_context(environment: str, action: str) -> dict[str, Any]:
    label = LABELS[environment]
    if action == "regenerate":
        return {
            "environment": environment,
            "label": label,
            "button": "Regenerate",
            "danger": False,
            "title": f"Regenerate the {label} secret?",
            "url": reverse("regenerate_secret", args=[environment]),
            "text": f"A new {label} secret replaces the current one at once. Deliveries signed with "
            "the new secret fail verification until your receiver uses it.",
        }
    return {
        "environment": environment,
        "label": label,
        "button": "Delete",
        "danger": True,
        "title": f"Delete the {label} webhook?",
        "url": reverse("delete_webhook", args=[environment]),
        "text": f"The {label} URL and secret are removed and {label} data alerts are no longer "
        "delivered. Its logs stay.",
    }


@require_POST
@login_required
def reveal_secret(request: HttpRequest, environment: str) -> HttpResponse:
    environment = _managed_environment(request, environment)
    try:
        webhook = ManagementApi().get_webhook(environment)
    except ManagementApiError as e:
        return _api_failure(request, environment, "Revealing the secret", e)
    if webhook is None:
        raise Http404("No webhook")
    if request.GET.get("format") == "text":
        return HttpResponse(webhook["secret"], content_type="text/plain", headers={"Cache-Control": "no-store"})
    response = render(
        request,
        "webhooks_app/_secret.html",
        {"environment": environment, "secret": webhook["secret"], "revealed": True},
    )
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@login_required
def resend_delivery(request: HttpRequest, environment: str, log_id: str) -> HttpResponse:
    environment = _managed_environment(request, environment)
    try:
        ManagementApi().resend(environment, log_id)
    except ManagementApiError as e:
        return error_response(request, f"Resending failed: {e}", 502)
    if not request.htmx:
        return redirect(f"{reverse('webhooks_tab')}?env={environment}")
    response = HttpResponse(status=204)
    return trigger_client_event(
        response, "webhooks:queued", {"message": "Resend queued: the worker sends it in a moment."}
    )


@require_POST
@login_required
def enable_webhook(request: HttpRequest, environment: str) -> HttpResponse:
    environment = _managed_environment(request, environment)
    try:
        webhook = ManagementApi().enable_webhook(environment)
    except ManagementApiError as e:
        return _api_failure(request, environment, "Enabling the webhook", e)
    return _card_response(request, environment, webhook, f"{LABELS[environment]} webhook enabled.")
