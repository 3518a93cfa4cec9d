"""What the tab's views answer with: a modal's content, a card swapped in place after a change, a
new secret shown once, and the plain words of a management API fault."""

from typing import Any

from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django_htmx.http import reswap, retarget, trigger_client_event

from portal import environments
from webhooks_app.access import HtmxHttpRequest
from webhooks_app.cards import card_context


def card_response(
    request: HtmxHttpRequest, environment: str, webhook: dict[str, Any] | None, message: str
) -> HttpResponse:
    """After a change: the card, swapped in place, and the modal closed."""
    if not request.htmx:
        return redirect(reverse("webhooks_tab"))
    response = render(request, "webhooks_app/_environment_card.html", card_context(request, environment, webhook))
    response = reswap(retarget(response, f"#card-{environment}"), "outerHTML")
    return trigger_client_event(response, "webhooks:changed", {"message": message})


def new_secret_response(
    request: HtmxHttpRequest, environment: str, webhook: dict[str, Any], title: str
) -> HttpResponse:
    """After Generate Key or Regenerate: the new secret, shown once in the modal, and the card
    updated behind it."""
    context = {
        **card_context(request, environment, webhook),
        "title": f"{title} ({environments.label(environment)})",
        "secret": webhook["secret"],
        "oob": True,
    }
    response = modal(request, "webhooks_app/_new_secret.html", context)
    response["Cache-Control"] = "no-store"
    return response


def modal(request: HtmxHttpRequest, template: str, context: dict[str, Any], status: int = 200) -> HttpResponse:
    """The modal's content for htmx, or the same content as a page of its own without JavaScript."""
    context = {**context, "content_template": template}
    if request.htmx:
        response = render(request, template, context, status=status)
        return reswap(retarget(response, "#modal-content"), "innerHTML")
    return render(request, "webhooks_app/modal_page.html", context, status=status)
