"""Rolling a webhook secret from its card: the next secret is shown once, deliveries stay signed
with the current one until the switch (docs/api-additions.md), and the card says when that is.

Offered only when the management API reports `next_secret_activates_at` on its webhooks (the
embedded one does; AutoQL's own has no roll calls).
"""

from typing import Any

from django import forms
from django.http import HttpResponse
from django.urls import reverse

from portal import environments
from webhooks_app.access import HtmxHttpRequest
from webhooks_app.cards import card_context
from webhooks_app.client import ManagementApi
from webhooks_app.decorators import change_view
from webhooks_app.responses import card_response, modal

ROLL_PERIODS = [(1, "1 hour"), (24, "24 hours"), (72, "72 hours"), (168, "7 days")]
DEFAULT_ROLL_HOURS = 24


class RollForm(forms.Form):
    expires_in_hours = forms.TypedChoiceField(
        choices=ROLL_PERIODS,
        coerce=int,
        initial=DEFAULT_ROLL_HOURS,
        error_messages={
            "required": "Choose when the next secret takes over.",
            "invalid_choice": "Choose one of the times offered.",
        },
    )


@change_view("Rolling the secret", methods=("GET", "POST"))
def roll_secret(request: HtmxHttpRequest, environment: str) -> HttpResponse:
    form = RollForm(request.POST if request.method == "POST" else None)
    context: dict[str, Any] = {"form": form, "environment": environment, "label": environments.label(environment)}
    if request.method == "POST" and form.is_valid():
        webhook = ManagementApi().roll_secret(environment, form.cleaned_data["expires_in_hours"])
        context.update(
            next_secret=webhook["next_secret"],
            activates_at=webhook["next_secret_activates_at"],
            # The card changes too (it now shows the pending roll): swapped out of band by htmx.
            card=card_context(request, environment, webhook) if request.htmx else None,
        )
        response = modal(request, "webhooks_app/_roll_secret_shown.html", context)
        # The next secret is in this answer only: no cache may keep it.
        response["Cache-Control"] = "no-store"
        return response
    status = 400 if request.method == "POST" else 200
    return modal(request, "webhooks_app/_roll_secret_form.html", context, status=status)


def _confirm(
    request: HtmxHttpRequest,
    environment: str,
    url_name: str,
    *,
    button: str,
    title: str,
    text: str,
    danger: bool = False,
) -> HttpResponse:
    """The confirmation a roll's Switch now or Cancel asks for, posting back to the same view."""
    context = {
        "environment": environment,
        "label": environments.label(environment),
        "button": button,
        "danger": danger,
        "title": title,
        "text": text,
        "url": reverse(url_name, args=[environment]),
    }
    return modal(request, "webhooks_app/_confirm.html", context)


@change_view("Switching to the next secret", methods=("GET", "POST"))
def complete_secret_roll(request: HtmxHttpRequest, environment: str) -> HttpResponse:
    label = environments.label(environment)
    if request.method == "GET":
        return _confirm(
            request,
            environment,
            "complete_secret_roll",
            button="Switch now",
            title=f"Switch to the next {label} secret now?",
            text=f"Every {label} delivery from now on is signed with the next secret. Receivers "
            "that still verify with the current one will reject them.",
        )
    webhook = ManagementApi().complete_secret_roll(environment)
    return card_response(request, environment, webhook, f"{label} deliveries are now signed with the next secret.")


@change_view("Cancelling the roll", methods=("GET", "POST"))
def cancel_secret_roll(request: HtmxHttpRequest, environment: str) -> HttpResponse:
    label = environments.label(environment)
    if request.method == "GET":
        return _confirm(
            request,
            environment,
            "cancel_secret_roll",
            button="Cancel roll",
            danger=True,
            title=f"Cancel the {label} secret roll?",
            text=f"The next {label} secret is forgotten and never signs anything; the current secret stays.",
        )
    webhook = ManagementApi().cancel_secret_roll(environment)
    return card_response(request, environment, webhook, f"{label} secret roll cancelled.")
