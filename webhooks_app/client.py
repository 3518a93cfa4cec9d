"""The portal's one client of AutoQL's management API.

Every call is one of AutoQL's management API (docs/api.md): the
environment's API key as `key`, the bearer token in `Authorization`. With AUTOQL_DOMAIN set the
calls go to that domain; without it, the same calls are handed to the embedded API's views
in-process (call_in_process), so the portal never calls its own server over the network and a
single sync worker cannot deadlock waiting for itself.
"""

import io
import json
import re
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, cast
from urllib.parse import quote, urlencode

import requests
from django.conf import settings
from django.core.handlers.wsgi import WSGIRequest
from django.http import HttpResponse, JsonResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.urls import Resolver404, resolve

from audit.trail import RECORDED_BY_PORTAL
from portal.credentials import api_keys

API_PATH = "/autoql/management/api/v1/notifications"
UNEXPECTED = "The management API answered with something the portal does not understand."
UNEXPECTED_DETAIL = "an answer of an unknown shape. Check that AUTOQL_DOMAIN points at an AutoQL management API."


@dataclass
class ManagementApiError(Exception):
    """A call that did not succeed: a sentence a person can act on, and for the portal's
    operators what went wrong (`cause`) and the exact call (`detail`, never the key)."""

    message: str
    status: int | None = None
    field_errors: dict[str, list[str]] = field(default_factory=dict)
    cause: str = ""
    detail: str = ""

    def __str__(self) -> str:
        return self.message


def call_in_process(method: str, path: str, query: dict[str, Any], body: Any = None) -> HttpResponseBase:
    """The embedded API's answer to one call, from its view, in this process.

    Straight to the view the path resolves to: the outer request went through the middleware
    already (host, session, user, CSRF), and the API's authentication (key and token), answers
    and errors are its views' (ninja's). Skipped are the HTTP edge's per-key rate limit, which is
    for callers from outside, and its body checks, which the portal's own forms make first.
    """
    content = b"" if body is None else json.dumps(body).encode()
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": urlencode(query, doseq=True),
        "SERVER_NAME": settings.EMBEDDED_API_HOST,
        "SERVER_PORT": "443",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "CONTENT_LENGTH": str(len(content)),
        "CONTENT_TYPE": "application/json" if body is not None else "",
        "HTTP_AUTHORIZATION": f"Bearer {settings.AUTOQL_TOKEN}",
        "HTTP_ACCEPT": "application/json",
        "wsgi.input": io.BytesIO(content),
        "wsgi.errors": sys.stderr,
        "wsgi.url_scheme": "https",
        "wsgi.version": (1, 0),
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        # The portal's views record these actions under the signed-in user; this tells the
        # embedded API not to record them again as the API key's (audit/trail.py).
        RECORDED_BY_PORTAL: True,
    }
    request = WSGIRequest(environ)
    try:
        match = resolve(path)
    except Resolver404:
        return JsonResponse({"message": "There is no such API path.", "reference_id": "1.1.404"}, status=404)
    request.resolver_match = match  # the API's authentication reads the path's environment
    # No request_started or request_finished signals either: those would close the database
    # connection the outer request still uses.
    return match.func(request, *match.args, **match.kwargs)


@dataclass
class LogExport:
    """A log export on its way: the file's name and type, and its bytes as they arrive."""

    filename: str
    content_type: str
    chunks: Iterator[bytes]


class ManagementApi:
    def __init__(self) -> None:
        # The HTTP status of the last call that got an answer (201 tells a created webhook from a changed one).
        self.last_status: int | None = None
        # Without AUTOQL_DOMAIN the calls go to the embedded API in this process (call_in_process).
        self.embedded = not settings.AUTOQL_DOMAIN
        self.base_url = (
            f"https://{settings.EMBEDDED_API_HOST}{API_PATH}" if self.embedded else settings.AUTOQL_DOMAIN + API_PATH
        )

    @cached_property
    def session(self) -> requests.Session:
        """Only calls to an upstream open one: the embedded API is called in this process."""
        session = requests.Session()
        session.trust_env = False
        return session

    def _call(
        self,
        method: str,
        path: str,
        environment: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        timeout: float | None = None,
    ) -> Any:
        # Reads get the short budget (a page must not hang on them); changes and test connections
        # wait longer, since the API may be talking to a receiver meanwhile.
        if timeout is None:
            timeout = settings.AUTOQL_API_TIMEOUT if method == "GET" else settings.AUTOQL_API_CHANGE_TIMEOUT
        call = f"{method} {API_PATH}{path} with the {environment} key"
        query = {"key": api_keys()[environment], **(params or {})}
        if self.embedded:
            answer = call_in_process(method, API_PATH + path, query, json)
            status, content = answer.status_code, cast(HttpResponse, answer).content
        else:
            status, content = self._request(method, path, query, json, timeout, call)
        self.last_status = status
        body = _parse_json(content)
        if not isinstance(body, dict):
            raise ManagementApiError(
                "The management API answered with something the portal does not understand.",
                status,
                cause="unexpected",
                detail=f"{call}: {status}, not JSON. Check that AUTOQL_DOMAIN points at an AutoQL management API.",
            )
        if status < 400:
            return body.get("data")
        raise self._error(status, body, environment, call)

    def _request(
        self, method: str, path: str, query: dict[str, Any], body: Any, timeout: float, call: str
    ) -> tuple[int, bytes]:
        """One call to the upstream AutoQL over HTTP: its status and body."""
        try:
            response = self.session.request(
                method,
                f"{self.base_url}{path}",
                json=body,
                params=query,
                headers={"Authorization": f"Bearer {settings.AUTOQL_TOKEN}", "Accept": "application/json"},
                timeout=(min(5.0, timeout), timeout),
                allow_redirects=False,
            )
        except requests.exceptions.ConnectTimeout:
            raise ManagementApiError(
                f"The management API could not be reached in {timeout:g} s.",
                cause="unreachable",
                detail=f"{call}: no connection to {self.domain} (AUTOQL_DOMAIN). Check that the service is up.",
            )
        except requests.exceptions.Timeout:
            raise ManagementApiError(
                f"The management API did not answer in {timeout:g} s.",
                cause="timeout",
                detail=f"{call}: no answer from {self.domain} within {timeout:g} s "
                "(AUTOQL_API_TIMEOUT for reads, AUTOQL_API_CHANGE_TIMEOUT for changes).",
            )
        except requests.exceptions.RequestException:
            raise ManagementApiError(
                "The management API could not be reached.",
                cause="unreachable",
                detail=f"{call}: the connection to {self.domain} (AUTOQL_DOMAIN) failed. "
                "Check AUTOQL_DOMAIN and that the service is up.",
            )
        return response.status_code, response.content

    def _error(self, status: int, body: dict[str, Any], environment: str, call: str) -> ManagementApiError:
        # An upstream may echo what it was sent; the portal's credentials never reach a page.
        message = str(body.get("message") or "")
        for credential in (settings.AUTOQL_TOKEN, *api_keys().values()):
            if credential:
                message = message.replace(credential, "[credential removed]")
        field_errors = body.get("errors") or {}
        key_name = f"AUTOQL_{environment.upper()}_API_KEY"
        if status == 401:
            return ManagementApiError(
                "The management API did not accept the portal's credentials.",
                status,
                field_errors,
                cause="credentials",
                detail=f"{call}: 401. Check AUTOQL_TOKEN and {key_name}.",
            )
        if status == 403:
            return ManagementApiError(
                f"The management API says the {environment} API key belongs to another environment.",
                status,
                field_errors,
                cause="wrong-key",
                detail=f"{call}: 403 ({message}). Check {key_name}.",
            )
        if status >= 500:
            return ManagementApiError(
                f"The management API failed ({status}); try again in a moment.",
                status,
                field_errors,
                cause="failed",
                detail=f"{call}: {status}.",
            )
        return ManagementApiError(
            message or f"The management API answered {status}.",
            status,
            field_errors,
            cause="refused",
            detail=f"{call}: {status}.",
        )

    @property
    def domain(self) -> str:
        return self.base_url.removesuffix(API_PATH)

    # The six calls of AutoQL's Webhooks page, in its order; paths and bodies as docs/api.md
    # describes them.

    def get_webhook(self, environment: str) -> dict[str, Any] | None:
        """GET /webhooks: AutoQL's page, "Accessing Webhook Secret Keys", Using APIs."""
        data = self._call("GET", "/webhooks", environment)
        items = data.get("items") if isinstance(data, dict) else None
        if not isinstance(items, list) or not all(isinstance(w, dict) and "url" in w for w in items):
            raise ManagementApiError(
                UNEXPECTED, cause="unexpected", detail=f"GET {API_PATH}/webhooks: {UNEXPECTED_DETAIL}"
            )
        return next((w for w in items if w.get("environment", environment) == environment), None)

    def put_webhook(self, environment: str, url: str) -> dict[str, Any]:
        """PUT /webhooks/{environment}: "Creating and maintaining Webhooks", Create or update."""
        return self._call("PUT", f"/webhooks/{environment}", environment, json={"url": url})

    def regenerate_secret(self, environment: str) -> dict[str, Any]:
        """PUT /webhooks/{environment}/secret: "Regenerate Webhook Secret"."""
        return self._call("PUT", f"/webhooks/{environment}/secret", environment, json={})

    def delete_webhook(self, environment: str) -> None:
        """DELETE /webhooks/{environment}: "Delete"."""
        self._call("DELETE", f"/webhooks/{environment}", environment)

    def test_connection(self, environment: str) -> dict[str, Any]:
        """POST /webhooks/{environment}/test: "Test connection"."""
        return self._call("POST", f"/webhooks/{environment}/test", environment, json={})

    # This project's own additions (docs/api.md).

    def resend(self, environment: str, log_id: str) -> dict[str, Any]:
        return self._call("POST", f"/webhooks/{environment}/logs/{quote(log_id, safe='')}/resend", environment, json={})

    def queue_event(self, environment: str, event: str, payload: dict[str, Any]) -> dict[str, Any]:
        """POST /webhooks/{environment}/events: one data alert, queued for the worker to deliver."""
        body = {"event": event, "payload": payload}
        data = self._call("POST", f"/webhooks/{environment}/events", environment, json=body)
        if not isinstance(data, dict) or "delivery_id" not in data:
            raise ManagementApiError(UNEXPECTED)
        return data

    def enable_webhook(self, environment: str) -> dict[str, Any]:
        return self._call("PUT", f"/webhooks/{environment}/enable", environment, json={})

    # Rolling a secret (docs/api-additions.md): only the roll's own answer holds `next_secret`.

    def roll_secret(self, environment: str, expires_in_hours: int) -> dict[str, Any]:
        return self._call(
            "POST", f"/webhooks/{environment}/secret/roll", environment, json={"expires_in_hours": expires_in_hours}
        )

    def complete_secret_roll(self, environment: str) -> dict[str, Any]:
        return self._call("POST", f"/webhooks/{environment}/secret/roll/complete", environment, json={})

    def cancel_secret_roll(self, environment: str) -> dict[str, Any]:
        return self._call("DELETE", f"/webhooks/{environment}/secret/roll", environment)

    def logs(self, environment: str, offset: int, limit: int, fields: Sequence[str] = ()) -> dict[str, Any]:
        """GET /webhooks/{environment}/logs: "Viewing Webhook Logs", Using APIs.

        `fields`: only those fields of each row are needed (docs/api.md, "Logs: fields")."""
        params = {"offset": offset, "limit": limit} | self._fields_parameter(fields)
        data = self._call("GET", f"/webhooks/{environment}/logs", environment, params=params)
        items = data.get("items") if isinstance(data, dict) else None
        pagination = data.get("pagination") if isinstance(data, dict) else None
        total = pagination.get("total_items") if isinstance(pagination, dict) else None
        if not isinstance(items, list) or not isinstance(total, int):
            detail = f"GET {API_PATH}/webhooks/{environment}/logs: {UNEXPECTED_DETAIL}"
            raise ManagementApiError(UNEXPECTED, cause="unexpected", detail=detail)
        return data

    # This implementation's extensions of the logs (docs/api.md, "Logs: filters, deliveries,
    # recover, stats and export"). Against an AutoQL that lacks them, log_filters_supported says
    # so, and the others fail with the upstream's 404.

    def _fields_parameter(self, fields: Sequence[str]) -> dict[str, str]:
        """Only the embedded API is asked for some fields of each row: AutoQL's logs call takes
        offset and limit alone, so an upstream gets exactly that and answers whole rows."""
        return {"fields": ",".join(fields)} if fields and self.embedded else {}

    def log_filters_supported(self, environment: str) -> frozenset[str]:
        """The filters GET .../logs takes, as its pagination advertises them; none for a plain AutoQL."""
        data = self.logs(environment, offset=0, limit=1, fields=("id",))
        filters = data["pagination"].get("filters")
        if not isinstance(filters, list):
            return frozenset()
        return frozenset(name for name in filters if isinstance(name, str))

    def filtered_logs(
        self, environment: str, offset: int, limit: int, filters: Mapping[str, str], fields: Sequence[str] = ()
    ) -> dict[str, Any]:
        """GET .../logs with filters, e.g. {"status": "failure", "created_after": "2026-11-28T00:00:00Z"}."""
        params = {**filters, "offset": offset, "limit": limit} | self._fields_parameter(fields)
        data = self._call("GET", f"/webhooks/{environment}/logs", environment, params=params)
        if not isinstance(data, dict) or not isinstance(data.get("items"), list):
            raise ManagementApiError(UNEXPECTED)
        return data

    def log_row(self, environment: str, log_id: str) -> dict[str, Any]:
        """One log row with its request and response, for the row the reader opens."""
        data = self._call("GET", f"/webhooks/{environment}/logs/{quote(log_id, safe='')}", environment)
        if not isinstance(data, dict) or "id" not in data:
            raise ManagementApiError(UNEXPECTED)
        return data

    def delivery(self, environment: str, delivery_id: str) -> dict[str, Any]:
        """A delivery and every attempt of it, oldest first."""
        return self._call("GET", f"/webhooks/{environment}/deliveries/{quote(delivery_id, safe='')}", environment)

    def recoverable_count(self, environment: str, since: str) -> int:
        """How many failed deliveries since `since` (ISO 8601) recover would send again."""
        data = self._call("GET", f"/webhooks/{environment}/recover", environment, params={"since": since})
        if not isinstance(data, dict) or not isinstance(data.get("count"), int):
            raise ManagementApiError(UNEXPECTED)
        return data["count"]

    def recover(self, environment: str, since: str) -> int:
        """Send again every failed delivery since `since`; how many were queued."""
        data = self._call("POST", f"/webhooks/{environment}/recover", environment, json={"since": since})
        if not isinstance(data, dict) or not isinstance(data.get("queued"), int):
            raise ManagementApiError(UNEXPECTED)
        return data["queued"]

    def stats(self, environment: str, window: str = "24h") -> dict[str, Any]:
        """Attempts, successes, failures, durations and chart buckets of the last 24h, 7d or 30d."""
        return self._call("GET", f"/webhooks/{environment}/stats", environment, params={"window": window})

    def export_logs(self, environment: str, file_format: str, filters: Mapping[str, str]) -> LogExport:
        """The matching log rows as a CSV or JSON Lines file, read as it arrives (never held whole)."""
        path = f"/webhooks/{environment}/logs/export"
        query = {"key": api_keys()[environment], **filters, "format": file_format}
        call = f"GET {API_PATH}{path}"
        chunks: Iterator[bytes]
        if self.embedded:
            answer = call_in_process("GET", API_PATH + path, query)
            if answer.status_code != 200:
                raise self._export_error(answer.status_code, cast(HttpResponse, answer).content, environment, call)
            streamed = cast(Iterator[bytes], cast(StreamingHttpResponse, answer).streaming_content)
            chunks = (bytes(chunk) for chunk in streamed)
            disposition, content_type = answer.get("Content-Disposition", ""), answer.get("Content-Type")
        else:
            try:
                response = self.session.get(
                    f"{self.base_url}{path}",
                    params=query,
                    headers={"Authorization": f"Bearer {settings.AUTOQL_TOKEN}"},
                    timeout=settings.AUTOQL_API_TIMEOUT,
                    allow_redirects=False,
                    stream=True,
                )
            except requests.exceptions.RequestException:
                raise ManagementApiError(
                    f"The management API at {self.domain} could not be reached; "
                    "check AUTOQL_DOMAIN and that the service is up."
                )
            if response.status_code != 200:
                content = response.content
                response.close()
                raise self._export_error(response.status_code, content, environment, call)
            chunks = response.iter_content(chunk_size=64 * 1024)
            disposition, content_type = (
                response.headers.get("Content-Disposition", ""),
                response.headers.get("Content-Type"),
            )
        match = re.search(r'filename="([A-Za-z0-9._-]+)"', disposition)
        return LogExport(
            filename=match.group(1) if match else f"webhook-logs-{environment}.{file_format}",
            content_type=content_type or "application/octet-stream",
            chunks=chunks,
        )

    def _export_error(self, status: int, content: bytes, environment: str, call: str) -> ManagementApiError:
        body = _parse_json(content)
        if not isinstance(body, dict):
            return ManagementApiError(f"The management API answered {status}.", status)
        return self._error(status, body, environment, call)


def _parse_json(content: bytes) -> Any:
    try:
        return json.loads(content)
    except ValueError:
        return None
