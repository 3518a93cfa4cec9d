"""Every request acts for someone in the audit trail: its signed-in person, looked up only if the
request records something (an API call never reads the session for it)."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from audit.trail import acting_for


class ActorMiddleware:
    """After the authentication middleware: whatever this request changes is recorded as its
    person's, from the client's address (portal/addresses.py)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with acting_for(request):
            return self.get_response(request)
