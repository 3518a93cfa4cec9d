"""The Webhooks tab. Every action is one call of the management API (webhooks_app/client.py).

Full pages for plain requests, and for htmx requests only the part that changed: a card, the
logs section or the modal's content.
"""

import math
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import reswap, retarget, trigger_client_event
from django_htmx.middleware import HtmxDetails
from django_ratelimit.core import get_usage

from audit.trail import Action, connection_test_outcome, record
from portal.credentials import ENVIRONMENTS
from webhooks_app.client import ManagementApi, ManagementApiError
from webhooks_app.errors import error_response
from webhooks_app.forms import PAGE_SIZES, LogsPageForm, WebhookUrlForm
from webhooks_app.log_filters import LogFiltering

LABELS = {"sandbox": "Sandbox", "production": "Production"}
MANAGE_PERMISSION = "webhooks_app.manage_webhooks"


class HtmxHttpRequest(HttpRequest):
    """What django-htmx's middleware adds to every request (its documented typing pattern)."""

    htmx: HtmxDetails


ChangeView = Callable[..., HttpResponse]


def manager_required(view: ChangeView) -> ChangeView:
    """For the views that change a webhook or reveal its secret: a known environment (else 404)
    and a user with the manage permission (else 403)."""

    @wraps(view)
    def checked(request: HtmxHttpRequest, environment: str, *args: Any, **kwargs: Any) -> HttpResponse:
        if environment not in ENVIRONMENTS:
            raise Http404("No such environment")
        if not request.user.has_perm(MANAGE_PERMISSION):
            raise PermissionDenied("Only managers can change webhooks or reveal secrets.")
        return view(request, environment, *args, **kwargs)

    return checked


def reports_api_failure(action: str, *, as_banner: bool = False) -> Callable[[ChangeView], ChangeView]:
    """The one error path of the change views: a management API call that fails becomes the
    modal "<action> failed" (502), or the page's banner for actions that have no modal."""

    def decorator(view: ChangeView) -> ChangeView:
        @wraps(view)
        def reporting(request: HtmxHttpRequest, environment: str, *args: Any, **kwargs: Any) -> HttpResponse:
            try:
                return view(request, environment, *args, **kwargs)
            except ManagementApiError as e:
                if as_banner:
                    return error_response(request, f"{action} failed: {e}", 502)
                context = {"label": LABELS[environment], "action": action, "error": e.message}
                return _modal(request, "webhooks_app/_action_failed.html", context, status=502)

        return reporting

    return decorator


def _mask(secret: str) -> str:
    return "•" * 12 + secret[-4:]


def _card_context(
    request: HttpRequest, environment: str, webhook: dict[str, Any] | None, error: str | None = None
) -> dict[str, Any]:
    return {
        "environment": environment,
        "label": LABELS[environment],
        "webhook": webhook,
        "masked_secret": _mask(webhook["secret"]) if webhook else "",
        "card_error": error,
        "is_manager": request.user.has_perm(MANAGE_PERMISSION),
    }


def _logs_context(request: HttpRequest, api: ManagementApi) -> dict[str, Any]:
    paging = LogsPageForm.from_query(request.GET)
    environment, page, size = paging["env"], paging["page"], paging["size"]
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
        "is_manager": request.user.has_perm(MANAGE_PERMISSION),
    }
    # Hook: the logs' filters and search (webhooks_app/log_filters.py); bad values call no API.
    filtering = context["filtering"] = LogFiltering.from_query(request.GET, environment, size)
    if filtering.invalid:
        return context
    try:
        data = filtering.fetch_page(api, offset=(page - 1) * size, limit=size)
    except ManagementApiError as e:
        context["logs_error"] = f"Loading the {LABELS[environment]} logs failed: {e}"
        return context
    total = data["pagination"]["total_items"]
    context.update(rows=data["items"], total=total, pages=max(1, math.ceil(total / size)))
    return context


def _card(request: HttpRequest, api: ManagementApi, environment: str) -> dict[str, Any]:
    try:
        return _card_context(request, environment, api.get_webhook(environment))
    except ManagementApiError as e:
        return _card_context(request, environment, None, f"Loading the {LABELS[environment]} webhook failed: {e}")


@require_GET
@login_required
def webhooks_tab(request: HtmxHttpRequest) -> HttpResponse:
    api = ManagementApi()
    logs = _logs_context(request, api)
    status = 400 if logs["filtering"].invalid else 200  # Hook: a bad filter value is a 400.
    if request.htmx and request.htmx.target == "logs":
        return render(request, "webhooks_app/_logs.html", logs, status=status)
    cards = [_card(request, api, environment) for environment in ENVIRONMENTS]
    return render(request, "webhooks_app/webhooks_tab.html", {"cards": cards, **logs}, status=status)


def _card_response(
    request: HtmxHttpRequest, environment: str, webhook: dict[str, Any] | None, message: str
) -> HttpResponse:
    """After a change: the card, swapped in place, and the modal closed."""
    if not request.htmx:
        return redirect(reverse("webhooks_tab"))
    response = render(request, "webhooks_app/_environment_card.html", _card_context(request, environment, webhook))
    response = reswap(retarget(response, f"#card-{environment}"), "outerHTML")
    return trigger_client_event(response, "webhooks:changed", {"message": message})


def _modal(request: HtmxHttpRequest, template: str, context: dict[str, Any], status: int = 200) -> HttpResponse:
    """The modal's content for htmx, or the same content as a page of its own without JavaScript."""
    context = {**context, "content_template": template}
    if request.htmx:
        response = render(request, template, context, status=status)
        return reswap(retarget(response, "#modal-content"), "innerHTML")
    return render(request, "webhooks_app/modal_page.html", context, status=status)


@require_http_methods(["GET", "POST"])
@login_required
@manager_required
@reports_api_failure("Saving the webhook")
def generate_key(request: HtmxHttpRequest, environment: str) -> HttpResponse:
    form = WebhookUrlForm(request.POST or None, initial={"url": request.GET.get("url", "")})
    context = {
        "form": form,
        "environment": environment,
        "label": LABELS[environment],
        "updating": bool(request.GET.get("url") or request.POST.get("updating")),
    }
    if request.method == "POST" and form.is_valid():
        api = ManagementApi()
        try:
            webhook = api.put_webhook(environment, form.cleaned_data["url"])
        except ManagementApiError as e:
            # A refused URL goes back into the form; anything else is a failed call.
            if not e.field_errors and e.status != 400:
                raise
            for message in e.field_errors.get("url") or [e.message]:
                form.add_error("url", message)
        else:
            action = Action.WEBHOOK_CREATED if api.last_status == 201 else Action.URL_CHANGED
            record(action, request=request, environment=environment, detail=webhook["url"])
            return _card_response(request, environment, webhook, f"{LABELS[environment]} webhook saved.")
    status = 400 if request.method == "POST" else 200
    return _modal(request, "webhooks_app/_generate_key_form.html", context, status=status)


@require_POST
@login_required
@manager_required
@reports_api_failure("The test connection")
def test_connection(request: HtmxHttpRequest, environment: str) -> HttpResponse:
    # Each test connection makes a real request to the receiver: a person gets a few a minute.
    usage = get_usage(
        request, group="test-connection", key="user", rate=settings.TEST_CONNECTION_RATE_LIMIT, increment=True
    )
    if usage is not None and usage["should_limit"]:
        limited = error_response(request, "Too many test connections; try again in a minute.", 429)
        limited["Retry-After"] = str(max(1, usage["time_left"]))
        return limited
    result = ManagementApi().test_connection(environment)
    outcome = connection_test_outcome(bool(result.get("success")), result.get("status_code"), result.get("error"))
    record(Action.CONNECTION_TESTED, request=request, environment=environment, detail=outcome)
    response = _modal(
        request,
        "webhooks_app/_test_result.html",
        {"label": LABELS[environment], "environment": environment, "result": result},
    )
    return trigger_client_event(response, "logs:refresh", {})


@require_http_methods(["GET", "POST"])
@login_required
@manager_required
@reports_api_failure("Regenerating the secret")
def regenerate_secret(request: HtmxHttpRequest, environment: str) -> HttpResponse:
    if request.method == "GET":
        return _modal(request, "webhooks_app/_confirm.html", _confirm_context(environment, "regenerate"))
    webhook = ManagementApi().regenerate_secret(environment)
    record(Action.SECRET_REGENERATED, request=request, environment=environment)
    return _card_response(request, environment, webhook, f"{LABELS[environment]} secret regenerated.")


@require_http_methods(["GET", "POST"])
@login_required
@manager_required
@reports_api_failure("Deleting the webhook")
def delete_webhook(request: HtmxHttpRequest, environment: str) -> HttpResponse:
    if request.method == "GET":
        return _modal(request, "webhooks_app/_confirm.html", _confirm_context(environment, "delete"))
    ManagementApi().delete_webhook(environment)
    record(Action.WEBHOOK_DELETED, request=request, environment=environment)
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
@manager_required
@reports_api_failure("Revealing the secret")
def reveal_secret(request: HtmxHttpRequest, environment: str) -> HttpResponse:
    webhook = ManagementApi().get_webhook(environment)
    if webhook is None:
        raise Http404("No webhook")
    record(Action.SECRET_REVEALED, request=request, environment=environment)
    response = render(
        request,
        "webhooks_app/_secret.html",
        {"environment": environment, "secret": webhook["secret"], "revealed": True},
    )
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@login_required
@manager_required
@reports_api_failure("Resending", as_banner=True)
def resend_delivery(request: HtmxHttpRequest, environment: str, log_id: str) -> HttpResponse:
    ManagementApi().resend(environment, log_id)
    record(Action.DELIVERY_RESENT, request=request, environment=environment, detail=f"Log row {log_id}")
    if not request.htmx:
        return redirect(f"{reverse('webhooks_tab')}?env={environment}")
    response = HttpResponse(status=204)
    return trigger_client_event(
        response, "webhooks:queued", {"message": "Resend queued: the worker sends it in a moment."}
    )


@require_POST
@login_required
@manager_required
@reports_api_failure("Enabling the webhook")
def enable_webhook(request: HtmxHttpRequest, environment: str) -> HttpResponse:
    webhook = ManagementApi().enable_webhook(environment)
    record(Action.WEBHOOK_ENABLED, request=request, environment=environment)
    return _card_response(request, environment, webhook, f"{LABELS[environment]} webhook enabled.")


@require_POST
@login_required
@manager_required
@reports_api_failure("Copying the secret", as_banner=True)
def copy_secret(request: HtmxHttpRequest, environment: str) -> HttpResponse:
    """The secret as text for the Copy button, which copies in the browser: asking here is what
    puts the copy in the audit trail."""
    webhook = ManagementApi().get_webhook(environment)
    if webhook is None:
        raise Http404("No webhook")
    record(Action.SECRET_COPIED, request=request, environment=environment)
    return HttpResponse(webhook["secret"], content_type="text/plain", headers={"Cache-Control": "no-store"})
