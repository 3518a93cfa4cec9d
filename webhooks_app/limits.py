"""How often a person may make the portal send something to a receiver right now."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django_ratelimit.core import get_usage

from webhooks_app.errors import error_response


def sends_limited(request: HttpRequest, what: str) -> HttpResponse | None:
    """The 429 for one send too many (a test connection or an example alert, which share one budget
    of TEST_CONNECTION_RATE_LIMIT per person: each makes a real request to a receiver), else None."""
    usage = get_usage(
        request, group="test-connection", key="user", rate=settings.TEST_CONNECTION_RATE_LIMIT, increment=True
    )
    if usage is None or not usage["should_limit"]:
        return None
    limited = error_response(request, f"Too many {what}; try again in a minute.", 429)
    limited["Retry-After"] = str(max(1, usage["time_left"]))
    return limited
