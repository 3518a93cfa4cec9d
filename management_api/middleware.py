import hashlib
import logging
import re
import time
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django_ratelimit import ALL
from django_ratelimit.core import get_usage

from management_api.authentication import bearer_token, environments_of
from management_api.crypto import DecryptionFailed
from portal.addresses import client_address

API_PREFIX = "/autoql/management/api/"
logger = logging.getLogger(__name__)

SENTENCES = {
    404: "There is no such API path; check it against the documentation.",
    405: "This path does not take that HTTP method.",
}


class JsonErrorsMiddleware:
    """Gives the API's one error shape to the answers Django makes before the API sees a request.

    An unknown path (404) or a wrong method (405) would otherwise be an HTML page or an empty body.
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not request.path.startswith(API_PREFIX) or response.status_code < 400:
            return response
        if response.get("Content-Type", "").startswith("application/json"):
            return response
        status = response.status_code
        message = SENTENCES.get(status, "The request could not be handled.")
        replacement = JsonResponse({"message": message, "reference_id": f"1.1.{status}"}, status=status)
        if response.has_header("Allow"):
            replacement["Allow"] = response["Allow"]
        return replacement


def _api_key_digest(group: str, request: HttpRequest) -> str:
    # The counter is keyed by a digest: the cache (possibly a shared Redis) never holds a key.
    return hashlib.sha256(request.GET.get("key", "").encode()).hexdigest()


def _client_address(group: str, request: HttpRequest) -> str:
    return client_address(request) or "unknown address"


# A django-ratelimit rate: calls, then per an optional number of seconds, minutes, hours or days.
RATE = re.compile(r"(\d+)/(\d*)([smhd])")
UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def counted_call(request: HttpRequest, group: str, key: Any, rate: str) -> dict[str, Any] | None:
    """One API call counted against `rate`, answered as django-ratelimit's get_usage answers: on a
    cache that counts in one round trip (portal/cache.py's Redis, `count_call`), a fixed window of
    the rate's period counted there, instead of get_usage's `add` and then `incr`; on any other
    cache, or for a rate this does not read, get_usage itself."""
    cache = caches[getattr(settings, "RATELIMIT_USE_CACHE", "default")]
    count_call = getattr(cache, "count_call", None)
    parsed = RATE.fullmatch(rate or "")
    if count_call is None or parsed is None or not getattr(settings, "RATELIMIT_ENABLE", True):
        return get_usage(request, group=group, key=key, rate=rate, method=ALL, increment=True)
    calls, multiplier, unit = parsed.groups()
    limit, period = int(calls), int(multiplier or 1) * UNIT_SECONDS[unit]
    now = int(time.time())
    window_ends = now - now % period + period
    # Digested: an address (or "unknown address") is no cache key as it stands.
    counter = hashlib.sha256(f"{group}:{key(group, request)}".encode()).hexdigest()
    count = count_call(f"api-limit:{counter}:{period}:{window_ends}", period + 5)
    return {"count": count, "limit": limit, "should_limit": count > limit, "time_left": window_ends - now}


class ApiRateLimitMiddleware:
    """Limits calls to the management API; past a limit, 429 and Retry-After.

    A call with a valid key and token counts against that key's API_RATE_LIMIT. Any other call
    counts against the caller's address (API_UNAUTHENTICATED_RATE_LIMIT): the key travels in
    query strings, so someone who saw it but has no token must not spend its budget and lock the
    real caller out, and one address gets only so many guesses at the token.
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith(API_PREFIX):
            return self.get_response(request)
        if environments_of(request.GET.get("key", ""), bearer_token(request)):
            group, key, rate = "management-api", _api_key_digest, settings.API_RATE_LIMIT
            message = "Too many calls with this API key; try again later."
        else:
            group, key, rate = "api-unauthenticated", _client_address, settings.API_UNAUTHENTICATED_RATE_LIMIT
            message = "Too many calls without a valid API key and token from this address; try again later."
        usage = counted_call(request, group, key, rate)
        if usage is not None and usage["should_limit"]:
            return too_many_requests(message, usage["time_left"])
        return self.get_response(request)


def too_many_requests(message: str, retry_after: int) -> JsonResponse:
    response = JsonResponse({"message": message, "reference_id": "1.1.429"}, status=429)
    response["Retry-After"] = str(max(1, retry_after))
    return response


class UndecryptableSecretMiddleware:
    """A stored secret the keys cannot decrypt, met outside the API (the admin's pages, the demo
    receiver): 503 with the sentence that says what to do, not a 500 and a stack trace.

    The start-up check (management_api/checks.py) stops every manage.py command first; this is for
    a web server started without one (gunicorn runs no checks). The API answers with its own body.
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, DecryptionFailed):
            return None
        logger.error("%s %s", request.path, exception)
        return render(request, "error.html", {"status": 503, "message": str(exception)}, status=503)
