"""The Webhooks tab. Every action is one call of the management API (webhooks_app/client.py).

Full pages for plain requests, and for htmx requests only the part that changed: a card, the
logs section or the modal's content.
"""

import math
import re
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.timesince import timesince
from django.views.decorators.http import require_GET, require_http_methods
from django_htmx.http import reswap, retarget, trigger_client_event
from django_htmx.middleware import HtmxDetails
from django_ratelimit.core import get_usage

from audit.trail import Action, connection_test_outcome, record
from portal.credentials import ENVIRONMENTS
from webhooks_app import health_panel
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


def reports_api_failure(action: str) -> Callable[[ChangeView], ChangeView]:
    """The one error path of the change views: a management API call that fails becomes the
    modal "<action> failed" (502)."""

    def decorator(view: ChangeView) -> ChangeView:
        @wraps(view)
        def reporting(request: HtmxHttpRequest, environment: str, *args: Any, **kwargs: Any) -> HttpResponse:
            try:
                return view(request, environment, *args, **kwargs)
            except ManagementApiError as e:
                context = {"label": LABELS[environment], "action": action, "error": e.message}
                return _modal(request, "webhooks_app/_action_failed.html", context, status=502)

        return reporting

    return decorator


def change_view(action: str, methods: tuple[str, ...] = ("POST",)) -> Callable[[ChangeView], ChangeView]:
    """Every view that changes a webhook or reveals its secret: the HTTP methods it takes, a signed-in
    manager and a known environment, and the one error path for a failed management API call."""

    def decorator(view: ChangeView) -> ChangeView:
        checked = login_required(manager_required(reports_api_failure(action)(view)))
        return require_http_methods(list(methods))(checked)

    return decorator


def _mask(secret: str) -> str:
    return "•" * 12 + secret[-4:]


# What integration staff read in the page's banner, one banner per cause; the exact call and
# the settings to check are behind "Details", for staff users only.
FAULT_HEADLINES = {
    "unreachable": "The portal cannot reach AutoQL's management API right now.",
    "timeout": "AutoQL's management API is answering too slowly right now.",
    "failed": "AutoQL's management API ran into an error.",
    "credentials": "AutoQL's management API does not accept this portal's credentials.",
    "wrong-key": "This portal's AutoQL API keys are mixed up between Sandbox and Production.",
    "unexpected": "The management API the portal is connected to does not answer like AutoQL's.",
    "too-large": "AutoQL's management API sent an answer larger than this portal reads.",
    "refused": "AutoQL's management API refused a request of this page.",
}
# Passing faults are worth a retry; the others need whoever runs the portal.
FAULT_ADVICE = {
    "unreachable": "Press Retry in a few minutes.",
    "timeout": "Press Retry in a few minutes.",
    "failed": "Press Retry in a few minutes.",
}
CONFIGURATION_ADVICE = "Whoever runs this portal needs to check its AutoQL settings."


def _fault(request: HttpRequest, error: ManagementApiError, source: str) -> dict[str, Any]:
    cause = error.cause or "refused"
    return {
        "cause": cause,
        "headline": FAULT_HEADLINES.get(cause, FAULT_HEADLINES["refused"]),
        "advice": FAULT_ADVICE.get(cause, CONFIGURATION_ADVICE),
        "detail": error.detail,
        "source": source,
        "show_details": request.user.is_staff,
    }


def _lower_first(sentence: str) -> str:
    return sentence[:1].lower() + sentence[1:]


def _card_context(
    request: HttpRequest,
    environment: str,
    webhook: dict[str, Any] | None,
    error: ManagementApiError | None = None,
) -> dict[str, Any]:
    label = LABELS[environment]
    return {
        "environment": environment,
        "label": label,
        "webhook": webhook,
        "masked_secret": _mask(webhook["secret"]) if webhook else "",
        "card_error": f"Couldn't load the {label} webhook: {_lower_first(error.message)}" if error else None,
        "fault": _fault(request, error, f"card-{environment}") if error else None,
        "is_manager": request.user.has_perm(MANAGE_PERMISSION),
    }


def _other_parameters(request: HttpRequest) -> str:
    """The query's parameters beyond env, size and page (the logs' filters), to pass on."""
    others = request.GET.copy()
    for name in ("env", "size", "page"):
        others.pop(name, None)
    return f"&{others.urlencode()}" if others else ""


def _page_link(paging: dict[str, Any], page: int) -> str:
    filtering = paging.get("filtering")
    filters = filtering.link_query if filtering is not None else ""  # the logs' filters stay in every link
    return f"?env={paging['env']}&size={paging['size']}&page={page}{filters}"


# What a closed log row shows (_rows_shown), all the table asks the API for: a row's request and
# response load when it opens (logs_views.log_detail).
TABLE_FIELDS = ("id", "project_id", "type", "event", "status", "code", "created_at")


def _rows_shown(environment: str, items: list[dict[str, Any]], offset: int = 0) -> list[dict[str, Any]]:
    """What a closed log row shows, worked out here once rather than by template filters per cell
    (a page has up to 100 rows)."""
    # One reverse for the page: every row's detail URL differs only in its id.
    detail_base = reverse("log_detail", args=[environment, "0"]).removesuffix("0")
    now = timezone.now()
    rows = []
    for index, item in enumerate(items):
        moment = parse_datetime(item.get("created_at") or "")
        rows.append(
            {
                "id": item["id"],
                "project_id": item.get("project_id") or "N/A",
                "type": item.get("type"),
                "event": item.get("event"),
                "status": item.get("status"),
                "succeeded": item.get("status") == "success",
                "code": item.get("code") or "—",
                "created_at": item.get("created_at"),
                "created": f"{timezone.localtime(moment):%Y-%m-%d %H:%M:%S}" if moment else "",
                "ago": timesince(moment, now) if moment else "",
                # Where the row stood in the list: an API without the one-row call (a plain AutoQL)
                # is asked for the list again from there (logs_views.log_detail).
                "detail_url": f"{detail_base}{item['id']}?at={offset + index}",
            }
        )
    return rows


def _logs_context(request: HttpRequest, api: ManagementApi) -> dict[str, Any]:
    paging = LogsPageForm.from_query(request.GET)
    environment, page, size = paging["env"], paging["page"], paging["size"]
    context: dict[str, Any] = {
        "env": environment,
        "size": size,
        "page": page,
        "asked_page": page,
        "sizes": PAGE_SIZES,
        "environments": [(e, LABELS[e]) for e in ENVIRONMENTS],
        "rows": [],
        "logs_error": None,
        "fault": None,
        "pages": 1,
        "total": 0,
        "is_manager": request.user.has_perm(MANAGE_PERMISSION),
    }
    context["health_panel"] = health_panel.kept(environment, context["is_manager"])
    # Hook: the logs' filters and search (webhooks_app/log_filters.py); bad values call no API.
    filtering = context["filtering"] = LogFiltering.from_query(request.GET, environment, size)
    if filtering.invalid:
        return context
    try:
        data = filtering.fetch_page(api, offset=(page - 1) * size, limit=size, fields=TABLE_FIELDS)
        total = data["pagination"]["total_items"]
        pages = max(1, math.ceil(total / size))
        if page > pages:
            # A page past the end (an old link, a typed number) shows the last one instead.
            page = pages
            data = filtering.fetch_page(api, offset=(page - 1) * size, limit=size, fields=TABLE_FIELDS)
            total = data["pagination"]["total_items"]
            pages = max(1, math.ceil(total / size))
    except ManagementApiError as e:
        context["logs_error"] = f"Couldn't load the {LABELS[environment]} logs: {_lower_first(e.message)}"
        context["fault"] = _fault(request, e, "logs")
        return context
    context.update(rows=_rows_shown(environment, data["items"], (page - 1) * size), total=total, pages=pages, page=page)
    context["pager_back"] = page > 1
    context["pager_forward"] = page < pages
    context["pager"] = {
        "first": _page_link(context, 1),
        "previous": _page_link(context, max(1, page - 1)),
        "next": _page_link(context, min(pages, page + 1)),
        "last": _page_link(context, pages),
    }
    return context


def _load_card(request: HttpRequest, environment: str) -> dict[str, Any]:
    try:
        return _card_context(request, environment, ManagementApi().get_webhook(environment))
    except ManagementApiError as e:
        return _card_context(request, environment, None, e)


@require_GET
@login_required
def webhooks_tab(request: HtmxHttpRequest) -> HttpResponse:
    """Against an upstream AutoQL the page itself calls no API: the cards and the logs load on
    their own (see below), so the page renders at once whatever the management API does. The
    embedded API runs in this process and cannot hang on a network, so there the cards and the
    first page of logs come in the page: one request instead of four."""
    paging = LogsPageForm.from_query(request.GET)
    context: dict[str, Any] = {
        "placeholders": [(e, LABELS[e]) for e in ENVIRONMENTS],
        "logs_query": _page_link(paging, paging["page"]) + _other_parameters(request),
    }
    if not settings.AUTOQL_DOMAIN:
        card = "webhooks_app/_environment_card.html"
        context["cards"] = [render_to_string(card, _load_card(request, e), request) for e in ENVIRONMENTS]
        logs = _logs_context(request, ManagementApi())
        if logs["page"] != logs["asked_page"]:
            # A page past the end shows the last one; the address bar follows (portal.js).
            logs["replace_url"] = reverse("webhooks_tab") + _page_link(logs, logs["page"])
        context["logs"] = render_to_string("webhooks_app/_logs.html", logs, request)
    return render(request, "webhooks_app/webhooks_tab.html", context)


@require_GET
@login_required
def environment_card(request: HtmxHttpRequest, environment: str) -> HttpResponse:
    """One card: for htmx the card alone, without JavaScript a page with that card."""
    if environment not in ENVIRONMENTS:
        raise Http404("No such environment")
    context = _load_card(request, environment)
    if request.htmx:
        return render(request, "webhooks_app/_environment_card.html", context)
    page = {**context, "part": "webhooks_app/_environment_card.html", "standalone": True}
    return render(request, "webhooks_app/part_page.html", page)


SECTION_RELOADS = ("logs", "logs-retry")


@require_GET
@login_required
def logs_section(request: HtmxHttpRequest) -> HttpResponse:
    """The logs section: for htmx the section alone, without JavaScript a page with it."""
    context = _logs_context(request, ManagementApi())
    corrected = context["page"] != context["asked_page"]
    tab_url = reverse("webhooks_tab") + _page_link(context, context["page"])
    if not request.htmx:
        if corrected:
            return redirect(reverse("logs_section") + _page_link(context, context["page"]))
        page = {**context, "part": "webhooks_app/_logs.html", "standalone": True}
        return render(request, "webhooks_app/part_page.html", page, status=400 if context["filtering"].invalid else 200)
    status = 400 if context["filtering"].invalid else 200  # a bad filter value is a 400
    response = render(request, "webhooks_app/_logs.html", context, status=status)
    # The address bar shows the tab at the page shown (never this endpoint, which a reload would
    # show bare): replaced when the section loaded, refreshed or retried, pushed when the reader
    # moved (toggle, pager, page jump, page size), so Back returns to where they were.
    if request.htmx.trigger in SECTION_RELOADS:
        if corrected:
            response["HX-Replace-Url"] = tab_url
    else:
        response["HX-Push-Url"] = tab_url
    return response


def _card_response(
    request: HtmxHttpRequest, environment: str, webhook: dict[str, Any] | None, message: str
) -> HttpResponse:
    """After a change: the card, swapped in place, and the modal closed."""
    if not request.htmx:
        return redirect(reverse("webhooks_tab"))
    response = render(request, "webhooks_app/_environment_card.html", _card_context(request, environment, webhook))
    response = reswap(retarget(response, f"#card-{environment}"), "outerHTML")
    return trigger_client_event(response, "webhooks:changed", {"message": message})


def _new_secret_response(
    request: HtmxHttpRequest, environment: str, webhook: dict[str, Any], title: str
) -> HttpResponse:
    """After Generate Key or Regenerate: the new secret, shown once in the modal, and the card
    updated behind it."""
    context = {
        **_card_context(request, environment, webhook),
        "title": f"{title} ({LABELS[environment]})",
        "secret": webhook["secret"],
        "oob": True,
    }
    response = _modal(request, "webhooks_app/_new_secret.html", context)
    response["Cache-Control"] = "no-store"
    return response


def _modal(request: HtmxHttpRequest, template: str, context: dict[str, Any], status: int = 200) -> HttpResponse:
    """The modal's content for htmx, or the same content as a page of its own without JavaScript."""
    context = {**context, "content_template": template}
    if request.htmx:
        response = render(request, template, context, status=status)
        return reswap(retarget(response, "#modal-content"), "innerHTML")
    return render(request, "webhooks_app/modal_page.html", context, status=status)


@change_view("Saving the webhook", methods=("GET", "POST"))
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
            if context["updating"]:
                return _card_response(request, environment, webhook, f"{LABELS[environment]} webhook saved.")
            return _new_secret_response(request, environment, webhook, "Your new secret key")
    status = 400 if request.method == "POST" else 200
    return _modal(request, "webhooks_app/_generate_key_form.html", context, status=status)


@change_view("The test connection")
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


@change_view("Regenerating the secret", methods=("GET", "POST"))
def regenerate_secret(request: HtmxHttpRequest, environment: str) -> HttpResponse:
    if request.method == "GET":
        return _modal(request, "webhooks_app/_confirm.html", _confirm_context(environment, "regenerate"))
    webhook = ManagementApi().regenerate_secret(environment)
    record(Action.SECRET_REGENERATED, request=request, environment=environment)
    return _new_secret_response(request, environment, webhook, "Your regenerated secret key")


@change_view("Deleting the webhook", methods=("GET", "POST"))
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


@change_view("Revealing the secret")
def reveal_secret(request: HtmxHttpRequest, environment: str) -> HttpResponse:
    webhook = ManagementApi().get_webhook(environment)
    if webhook is None:
        raise Http404("No webhook")
    record(Action.SECRET_REVEALED, request=request, environment=environment)
    response = render(
        request,
        "webhooks_app/_secret_revealed.html",
        {"environment": environment, "secret": webhook["secret"]},
    )
    response["Cache-Control"] = "no-store"
    return response


DELIVERY_ID_SHOWN = re.compile(r"[0-9A-Za-z-]{1,64}")


@change_view("Resending", methods=("GET", "POST"))
def resend_delivery(request: HtmxHttpRequest, environment: str, log_id: str) -> HttpResponse:
    if request.method == "GET":
        # The delivery id only names the delivery in the question; the row is what is resent.
        delivery = request.GET.get("delivery", "")
        shown = f"{delivery[:8]}…" if DELIVERY_ID_SHOWN.fullmatch(delivery) else f"of log row {log_id}"
        label = LABELS[environment]
        context = {
            "environment": environment,
            "label": label,
            "button": "Resend",
            "danger": environment == "production",
            "title": f"Resend delivery {shown} to the {label} webhook?",
            "url": reverse("resend_delivery", args=[environment, log_id]),
            "text": f"The {label} receiver gets the same event again, with the same delivery id and a fresh signature.",
        }
        return _modal(request, "webhooks_app/_confirm.html", context)
    ManagementApi().resend(environment, log_id)
    record(Action.DELIVERY_RESENT, request=request, environment=environment, detail=f"Log row {log_id}")
    if not request.htmx:
        return redirect(f"{reverse('webhooks_tab')}?env={environment}")
    response = HttpResponse(status=204)
    return trigger_client_event(
        response, "webhooks:queued", {"message": "Resend queued: the worker sends it in a moment."}
    )


@change_view("Enabling the webhook")
def enable_webhook(request: HtmxHttpRequest, environment: str) -> HttpResponse:
    webhook = ManagementApi().enable_webhook(environment)
    record(Action.WEBHOOK_ENABLED, request=request, environment=environment)
    return _card_response(request, environment, webhook, f"{LABELS[environment]} webhook enabled.")


@change_view("Copying the secret")
def copy_secret(request: HtmxHttpRequest, environment: str) -> HttpResponse:
    """The secret as text for the Copy button, which copies in the browser: asking here is what
    puts the copy in the audit trail."""
    webhook = ManagementApi().get_webhook(environment)
    if webhook is None:
        raise Http404("No webhook")
    record(Action.SECRET_COPIED, request=request, environment=environment)
    return HttpResponse(webhook["secret"], content_type="text/plain", headers={"Cache-Control": "no-store"})
