"""Error pages: a full page for plain requests, the banner for htmx requests."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django_htmx.http import reswap, retarget

MESSAGES = {
    400: "The request could not be understood; reload the page and try again.",
    403: "You can view webhooks but not change them or reveal secrets; ask an administrator for the manage permission.",
    404: "There is nothing at this address.",
    500: "Something went wrong on our side; try again, and tell the portal's operators if it keeps happening.",
}


def error_response(request: HttpRequest, message: str, status: int) -> HttpResponse:
    """The one error shape of the portal: the banner for htmx requests, a page otherwise."""
    if getattr(request, "htmx", False):
        response = render(request, "_banner.html", {"banner": message}, status=status)
        return reswap(retarget(response, "#banner"), "innerHTML")
    return render(request, "error.html", {"status": status, "message": message}, status=status)


def _error(request: HttpRequest, status: int) -> HttpResponse:
    return error_response(request, MESSAGES[status], status)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    return _error(request, 400)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    return _error(request, 403)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    return _error(request, 404)


def server_error(request: HttpRequest) -> HttpResponse:
    return _error(request, 500)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return error_response(request, "Your session's security token expired; reload the page and try again.", 403)
