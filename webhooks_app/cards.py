"""A webhook's card: its context, from the management API's answer or its failure."""

from typing import Any

from django.http import HttpRequest

from portal import environments
from webhooks_app.access import MANAGE_PERMISSION
from webhooks_app.client import ManagementApi, ManagementApiError
from webhooks_app.faults import fault, lower_first


def mask(secret: str) -> str:
    return "•" * 12 + secret[-4:]


def card_context(
    request: HttpRequest,
    environment: str,
    webhook: dict[str, Any] | None,
    error: ManagementApiError | None = None,
) -> dict[str, Any]:
    label = environments.label(environment)
    return {
        "environment": environment,
        "label": label,
        "webhook": webhook,
        "masked_secret": mask(webhook["secret"]) if webhook else "",
        "card_error": f"Couldn't load the {label} webhook: {lower_first(error.message)}" if error else None,
        "fault": fault(request, error, f"card-{environment}") if error else None,
        "is_manager": request.user.has_perm(MANAGE_PERMISSION),
    }


def load_card(request: HttpRequest, environment: str) -> dict[str, Any]:
    try:
        return card_context(request, environment, ManagementApi().get_webhook(environment))
    except ManagementApiError as e:
        return card_context(request, environment, None, e)
