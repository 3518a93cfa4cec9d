"""A failed management API call in plain words: one banner per cause, and for staff the exact call."""

from typing import Any

from django.http import HttpRequest

from webhooks_app.client import ManagementApiError

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


def fault(request: HttpRequest, error: ManagementApiError, source: str) -> dict[str, Any]:
    cause = error.cause or "refused"
    return {
        "cause": cause,
        "headline": FAULT_HEADLINES.get(cause, FAULT_HEADLINES["refused"]),
        "advice": FAULT_ADVICE.get(cause, CONFIGURATION_ADVICE),
        "detail": error.detail,
        "source": source,
        "show_details": request.user.is_staff,
    }


def lower_first(sentence: str) -> str:
    return sentence[:1].lower() + sentence[1:]
