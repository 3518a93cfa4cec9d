"""What every call of the embedded API shares: its authentication (the key and the bearer token),
the one error body, the envelope of a success, and the NinjaAPI the areas' routers join
(management_api/api/__init__.py)."""

import logging
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI, Query, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.responses import Status
from ninja.security import HttpBearer

from audit.trail import identify_api_caller
from management_api import schemas
from management_api.authentication import bearer_token, environments_of
from management_api.crypto import DecryptionFailed
from management_api.models import Webhook
from portal import environments

logger = logging.getLogger(__name__)


class ApiError(Exception):
    def __init__(
        self, status: int, message: str, errors: dict[str, list[str]] | None = None, retry_after: int | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors
        self.retry_after = retry_after


class AuthenticatedRequest(HttpRequest):
    """A request that KeyAndToken let through; ninja sets `auth` to what authenticate returned."""

    auth: str  # the environment the key and token are valid for


class KeyAndToken(HttpBearer):
    """The `key` query parameter and the bearer token, both required on every call.

    Runs before the body is read, so a caller without credentials learns nothing else: first
    401, then 404 for an environment that does not exist, then 403 for a key of the other one.
    """

    def __call__(self, request: HttpRequest) -> Any:
        token = bearer_token(request)
        if not token:
            raise ApiError(401, "Send your token in the header 'Authorization: Bearer <token>'.")
        return self.authenticate(request, token)

    def authenticate(self, request: HttpRequest, token: str) -> str:
        key = request.GET.get("key", "")
        matches = environments_of(key, token)
        if not key:
            raise ApiError(401, "Add your API key as the 'key' query parameter.")
        if not matches:
            raise ApiError(401, "The API key or the token is not valid.")
        path_environment = (request.resolver_match.kwargs if request.resolver_match else {}).get("environment")
        if path_environment is None:
            identify_api_caller(request, matches[0])
            return matches[0]
        if not environments.is_environment(path_environment):
            known = " or ".join(f"'{value}'" for value in environments.values())
            raise ApiError(404, f"There is no environment '{path_environment}'; use {known}.")
        if path_environment not in matches:
            raise ApiError(
                403,
                f"This is the {matches[0]} API key; the {path_environment} environment needs the "
                f"{path_environment} API key.",
            )
        identify_api_caller(request, path_environment)
        return path_environment


api = NinjaAPI(
    title="AutoQL management API (embedded)",
    version="1",
    description="Webhooks of the sandbox and production environments. Every call needs the "
    "environment's API key as `key` and `Authorization: Bearer <token>`.",
    auth=KeyAndToken(),
    urls_namespace="management_api",
    docs_decorator=login_required,
)


def json_error(
    request: HttpRequest, message: str, status: int, errors: dict[str, list[str]] | None = None
) -> HttpResponse:
    """The API's one error body (message, reference_id, field errors), as JSON."""
    body: dict[str, Any] = {"message": message, "reference_id": f"1.1.{status}"}
    if errors:
        body["errors"] = errors
    return api.create_response(request, body, status=status)


def ok(data: Any, status: int = 200) -> Status:
    return Status(status, {"data": data, "message": "Success", "reference_id": f"1.1.{status}"})


@api.exception_handler(ApiError)
def on_api_error(request: HttpRequest, exc: ApiError) -> HttpResponse:
    response = json_error(request, exc.message, exc.status, exc.errors)
    if exc.retry_after is not None:
        response["Retry-After"] = str(exc.retry_after)
    return response


@api.exception_handler(ValidationError)
def on_validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors: dict[str, list[str]] = {}
    for error in exc.errors:
        loc = [str(part) for part in error.get("loc", ())]
        # ("body", "<param>", "url") -> "url"; ("query", "limit") -> "limit"
        field = ".".join(loc[2:] if loc[:1] == ["body"] else loc[1:]) or "body"
        message = str(error.get("msg", "is not valid")).removeprefix("Value error, ")
        errors.setdefault(field, []).append(message)
    field, messages = next(iter(errors.items()))
    return json_error(request, f"{field}: {messages[0]}", 400, errors)


@api.exception_handler(AuthenticationError)
def on_authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return json_error(request, "The API key or the token is not valid.", 401)


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if exc.status_code == 400:
        return json_error(request, "The request body is not valid JSON.", 400)
    return json_error(request, str(exc), exc.status_code)


@api.exception_handler(Http404)
def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return json_error(request, "Not found.", 404)


@api.exception_handler(DecryptionFailed)
def on_undecryptable_secret(request: HttpRequest, exc: DecryptionFailed) -> HttpResponse:
    # A fault of this server's settings, not of the call: its one sentence says what to do, in the
    # log too, where a stack trace would add nothing.
    logger.error("%s %s", request.path, exc)
    return json_error(request, str(exc), 503)


@api.exception_handler(Exception)
def on_unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    # Logged in full for the operator; the caller gets one sentence and never a stack trace.
    logger.exception("Unexpected error in %s", request.path)
    return json_error(request, "The management API failed unexpectedly; try again.", 500)


def no_webhook(environment: str) -> ApiError:
    return ApiError(404, f"No webhook is configured for {environment}; create one first.")


def webhook_or_404(environment: str) -> Webhook:
    webhook = Webhook.objects.filter(environment=environment).first()
    if webhook is None:
        raise no_webhook(environment)
    webhook.promote_next_secret_if_due()
    return webhook


KEY = Query(..., description="API key of the environment in the path")
ERRORS = {frozenset({400, 401, 403, 404}): schemas.ErrorOut}


# This project's own calls answer 409 when the webhook's state forbids them (disabled, no roll).
ERRORS_409: dict[Any, type[Schema]] = {**ERRORS, 409: schemas.ErrorOut}
