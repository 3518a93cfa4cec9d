"""Requests refused before any view sees them (bodies too large, JSON no database can store), the
session's idle end moved forward, and htmx requests of an ended session sent to the sign-in page."""

import json
import math
import time
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseRedirectBase
from django.shortcuts import resolve_url
from django_htmx.http import HttpResponseClientRedirect

from management_api.middleware import API_PREFIX
from webhooks_app.errors import error_response


class BadInput(ValueError):
    def __init__(self, message: str, field: str = "body") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class _Constant:
    """NaN, Infinity or -Infinity as the JSON had it, kept so that the check can name its field."""

    def __init__(self, name: str) -> None:
        self.name = name


def _text_problem(text: str) -> str | None:
    if "\x00" in text:
        return "must not contain the NUL character (\\u0000)"
    if any("\ud800" <= ch <= "\udfff" for ch in text):
        return "must not contain a lone surrogate (\\ud800 to \\udfff); send valid Unicode"
    return None


def _check_value(value: Any, path: str) -> None:
    """Every value and key of a parsed JSON document, as PostgreSQL and SQLite can store them."""
    field = path or "body"
    if isinstance(value, _Constant):
        raise BadInput(f"{field}: {value.name} is not a number JSON allows; send a finite number or null.", field)
    if isinstance(value, float) and not math.isfinite(value):
        raise BadInput(f"{field}: the number is too large.", field)
    if isinstance(value, str):
        problem = _text_problem(value)
        if problem:
            raise BadInput(f"{field}: the text {problem}.", field)
    elif isinstance(value, dict):
        for key, item in value.items():
            problem = _text_problem(key)
            if problem:
                raise BadInput(f"{field}: a key {problem}.", field)
            _check_value(item, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_value(item, f"{path}[{index}]")


def check_json(body: bytes) -> None:
    """Raises BadInput for NaN, Infinity, huge numbers, NUL and lone surrogates anywhere in `body`.

    A body that is not JSON at all passes: the API itself answers that in its own words.
    """
    try:
        _check_value(json.loads(body, parse_constant=_Constant), "")
    except RecursionError:
        raise BadInput("The JSON is nested too deeply.")
    except BadInput:
        raise
    except ValueError as e:
        # Integers longer than Python reads (int_max_str_digits) are a ValueError of their own.
        if "digits" in str(e):
            raise BadInput("A number in the JSON has too many digits.")


def _api_query_problem(request: HttpRequest) -> BadInput | None:
    # The API's parameters (key, offset, limit) are plain ASCII; anything else, such as "²" or
    # full-width digits that int() would read, is a mistake or a probe.
    for name, values in request.GET.lists():
        if not all(value.isascii() and value.isprintable() for value in values):
            return BadInput(f"The query parameter '{name}' may only contain printable ASCII characters.", name)
    return None


def _nul_problem(request: HttpRequest) -> BadInput | None:
    # PostgreSQL cannot store NUL in text, and django-axes stores the query and form of every
    # failed sign-in; no field of this site has a use for it.
    for kind, fields in (("query parameter", request.GET), ("form field", request.POST)):
        for name, values in fields.lists():
            if "\x00" in name or any("\x00" in value for value in values):
                return BadInput(f"The {kind} '{name}' must not contain the NUL character.", name)
    for name, value in request.META.items():
        if name.startswith("HTTP_") and isinstance(value, str) and "\x00" in value:
            return BadInput("A request header must not contain the NUL character.", "headers")
    return None


class RequestBodyGuardMiddleware:
    """Refuses, before any view or CSRF check reads them, bodies too large and text no database stores."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        is_api = request.path.startswith(API_PREFIX)
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
            return self._too_large(request, is_api)
        try:
            problem = self._problem(request, is_api)
        except RequestDataTooBig:
            return self._too_large(request, is_api)
        if problem is not None:
            return self._bad_input(request, is_api, problem)
        return self.get_response(request)

    def _problem(self, request: HttpRequest, is_api: bool) -> BadInput | None:
        problem = (_api_query_problem(request) if is_api else None) or _nul_problem(request)
        # The API reads every body as JSON, whatever its Content-Type says.
        if problem is None and (request.content_type == "application/json" or (is_api and request.method != "GET")):
            try:
                check_json(request.body)
            except BadInput as e:
                problem = e
        return problem

    def _bad_input(self, request: HttpRequest, is_api: bool, problem: BadInput) -> HttpResponse:
        if is_api:
            errors = {problem.field: [problem.message]}
            return JsonResponse({"message": problem.message, "reference_id": "1.1.400", "errors": errors}, status=400)
        return error_response(request, problem.message, 400)

    def _too_large(self, request: HttpRequest, is_api: bool) -> HttpResponse:
        limit_mb = settings.DATA_UPLOAD_MAX_MEMORY_SIZE / (1024 * 1024)
        message = f"The request body is larger than {limit_mb:g} MB."
        if is_api:
            return JsonResponse({"message": message, "reference_id": "1.1.413"}, status=413)
        return error_response(request, message, 413)


# How often a signed-in session's end moves forward: at most once this many seconds, so that
# a page view (or the logs' check every 5 s) is not a database write each time.
SESSION_REFRESH_SECONDS = 60
SESSION_REFRESHED_AT = "_refreshed_at"


class SessionIdleRefreshMiddleware:
    """Moves the end of a session that a request used SESSION_IDLE_MINUTES forward, as
    SESSION_SAVE_EVERY_REQUEST would, but saves it at most once a minute: a session then ends
    between SESSION_IDLE_MINUTES - 1 and SESSION_IDLE_MINUTES after its last request."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        session = getattr(request, "session", None)
        # Only a session this request read (a signed-in page, not a static file or an API call).
        if session is None or not session.accessed or session.is_empty():
            return response
        now = int(time.time())
        refreshed_at = session.get(SESSION_REFRESHED_AT)
        if not isinstance(refreshed_at, int) or not 0 <= now - refreshed_at < SESSION_REFRESH_SECONDS:
            session[SESSION_REFRESHED_AT] = now  # modified: SessionMiddleware saves it, with a new end
        return response


class HtmxSignInRedirectMiddleware:
    """A request htmx makes once the session has ended (signed out in another tab, the idle
    timeout) is sent to the sign-in page as a whole page. htmx follows a plain redirect itself and
    pasted the sign-in page, top bar and all, into the panel it was loading; HX-Redirect makes the
    browser go there instead (https://htmx.org/reference/#response_headers). Signing in then
    returns to the page the person was on (HX-Current-URL, with its filters and page), not to
    the part of it that was loading."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        htmx = getattr(request, "htmx", None)
        if not htmx or not isinstance(response, HttpResponseRedirectBase):
            return response
        login_url = resolve_url(settings.LOGIN_URL)
        if urlsplit(response["Location"]).path != login_url:
            return response
        # Only a page of this site (same scheme and host) is a place to return to.
        page = htmx.current_url_abs_path
        return HttpResponseClientRedirect(redirect_to_login(page)["Location"] if page else login_url)
