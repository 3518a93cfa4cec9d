"""The Webhooks tab. Every action is one call of the management API (webhooks_app/client.py).

Full pages for plain requests, and for htmx requests only the part that changed: a card, the
logs section or the modal's content.
"""

import re
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_GET
from django_htmx.http import trigger_client_event

from audit.trail import Action, record
from portal import environments
from webhooks_app.access import HtmxHttpRequest, known_environment
from webhooks_app.cards import load_card
from webhooks_app.client import ManagementApi, ManagementApiError
from webhooks_app.decorators import change_view
from webhooks_app.forms import WebhookUrlForm, logs_place
from webhooks_app.limits import sends_limited
from webhooks_app.logs_table import logs_context, other_parameters, page_link
from webhooks_app.responses import card_response, modal, new_secret_response


@require_GET
@login_required
def webhooks_tab(request: HtmxHttpRequest) -> HttpResponse:
    """Against an upstream AutoQL the page itself calls no API: the cards and the logs load on
    their own (see below), so the page renders at once whatever the management API does. The
    embedded API runs in this process and cannot hang on a network, so there the cards and the
    first page of logs come in the page: one request instead of four."""
    paging = logs_place(request.GET)
    context: dict[str, Any] = {
        "placeholders": [(e, environments.label(e)) for e in environments.values()],
        "logs_query": page_link(paging, paging["page"]) + other_parameters(request),
    }
    if not settings.AUTOQL_DOMAIN:
        card = "webhooks_app/_environment_card.html"
        context["cards"] = [render_to_string(card, load_card(request, e), request) for e in environments.values()]
        logs = logs_context(request, ManagementApi())
        if logs["page"] != logs["asked_page"]:
            # A page past the end shows the last one; the address bar follows (portal.js).
            logs["replace_url"] = reverse("webhooks_tab") + page_link(logs, logs["page"])
        context["logs"] = render_to_string("webhooks_app/_logs.html", logs, request)
    return render(request, "webhooks_app/webhooks_tab.html", context)


@require_GET
@login_required
def environment_card(request: HtmxHttpRequest, environment: str) -> HttpResponse:
    """One card: for htmx the card alone, without JavaScript a page with that card."""
    known_environment(environment)
    context = load_card(request, environment)
    if request.htmx:
        return render(request, "webhooks_app/_environment_card.html", context)
    page = {**context, "part": "webhooks_app/_environment_card.html", "standalone": True}
    return render(request, "webhooks_app/part_page.html", page)


SECTION_RELOADS = ("logs", "logs-retry")


@require_GET
@login_required
def logs_section(request: HtmxHttpRequest) -> HttpResponse:
    """The logs section: for htmx the section alone, without JavaScript a page with it."""
    context = logs_context(request, ManagementApi())
    corrected = context["page"] != context["asked_page"]
    tab_url = reverse("webhooks_tab") + page_link(context, context["page"])
    if not request.htmx:
        if corrected:
            return redirect(reverse("logs_section") + page_link(context, context["page"]))
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


@change_view("Saving the webhook", methods=("GET", "POST"))
def generate_key(request: HtmxHttpRequest, environment: str) -> HttpResponse:
    form = WebhookUrlForm(request.POST or None, initial={"url": request.GET.get("url", "")})
    context = {
        "form": form,
        "environment": environment,
        "label": environments.label(environment),
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
            if context["updating"]:
                return card_response(request, environment, webhook, f"{environments.label(environment)} webhook saved.")
            return new_secret_response(request, environment, webhook, "Your new secret key")
    status = 400 if request.method == "POST" else 200
    return modal(request, "webhooks_app/_generate_key_form.html", context, status=status)


@change_view("The test connection")
def test_connection(request: HtmxHttpRequest, environment: str) -> HttpResponse:
    limited = sends_limited(request, "test connections")
    if limited is not None:
        return limited
    result = ManagementApi().test_connection(environment)
    response = modal(
        request,
        "webhooks_app/_test_result.html",
        {"label": environments.label(environment), "environment": environment, "result": result},
    )
    return trigger_client_event(response, "logs:refresh", {})


@change_view("Regenerating the secret", methods=("GET", "POST"))
def regenerate_secret(request: HtmxHttpRequest, environment: str) -> HttpResponse:
    if request.method == "GET":
        return modal(request, "webhooks_app/_confirm.html", _confirm_context(environment, "regenerate"))
    webhook = ManagementApi().regenerate_secret(environment)
    return new_secret_response(request, environment, webhook, "Your regenerated secret key")


@change_view("Deleting the webhook", methods=("GET", "POST"))
def delete_webhook(request: HtmxHttpRequest, environment: str) -> HttpResponse:
    if request.method == "GET":
        return modal(request, "webhooks_app/_confirm.html", _confirm_context(environment, "delete"))
    ManagementApi().delete_webhook(environment)
    return card_response(request, environment, None, f"{environments.label(environment)} webhook deleted.")


def _confirm_context(environment: str, action: str) -> dict[str, Any]:
    label = environments.label(environment)
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
    record(Action.SECRET_REVEALED, environment=environment)
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
        label = environments.label(environment)
        context = {
            "environment": environment,
            "label": label,
            "button": "Resend",
            "danger": environment == "production",
            "title": f"Resend delivery {shown} to the {label} webhook?",
            "url": reverse("resend_delivery", args=[environment, log_id]),
            "text": f"The {label} receiver gets the same event again, with the same delivery id and a fresh signature.",
        }
        return modal(request, "webhooks_app/_confirm.html", context)
    ManagementApi().resend(environment, log_id)
    if not request.htmx:
        return redirect(f"{reverse('webhooks_tab')}?env={environment}")
    response = HttpResponse(status=204)
    return trigger_client_event(
        response, "webhooks:queued", {"message": "Resend queued: the worker sends it in a moment."}
    )


@change_view("Enabling the webhook")
def enable_webhook(request: HtmxHttpRequest, environment: str) -> HttpResponse:
    webhook = ManagementApi().enable_webhook(environment)
    return card_response(request, environment, webhook, f"{environments.label(environment)} webhook enabled.")


@change_view("Copying the secret")
def copy_secret(request: HtmxHttpRequest, environment: str) -> HttpResponse:
    """The secret as text for the Copy button, which copies in the browser: asking here is what
    puts the copy in the audit trail."""
    webhook = ManagementApi().get_webhook(environment)
    if webhook is None:
        raise Http404("No webhook")
    record(Action.SECRET_COPIED, environment=environment)
    return HttpResponse(webhook["secret"], content_type="text/plain", headers={"Cache-Control": "no-store"})
