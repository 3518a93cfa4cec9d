"""The portal's one client of AutoQL's management API.

Every call is one of AutoQL's management API (docs/api.md): the
environment's API key as `key`, the bearer token in `Authorization`. With AUTOQL_DOMAIN set the
calls go to that domain; without it, the same calls are handed to the embedded API's views
in-process (call_in_process), so the portal never calls its own server over the network and a
single sync worker cannot deadlock waiting for itself.
"""

import http.client
import io
import json
import logging
import re
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, cast
from urllib.parse import quote, urlencode

import requests
import urllib3
from django.conf import settings
from django.core.handlers.wsgi import WSGIRequest
from django.http import HttpResponse, JsonResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.urls import Resolver404, resolve
from pydantic import ValidationError

from audit.trail import Action, connection_test_outcome, event_detail, export_detail, record, recover_detail
from portal import outbound_http
from portal.credentials import api_keys
from webhooks_app import contract

API_PATH = "/autoql/management/api/v1/notifications"
UNEXPECTED = "The management API answered with something the portal does not understand."
CHECK_DOMAIN = "Check that AUTOQL_DOMAIN points at an AutoQL management API."
# An upstream's error sentence is shown in the page: a sentence, not a novel.
MAX_MESSAGE_LENGTH = 300
# Pieces of an export passed on to the browser as they arrive.
EXPORT_CHUNK = 64 * 1024
# What a faulty connection raises, by layer: requests' own (connecting, the headers), then
# urllib3's and the standard library's while the body is read.
TRANSPORT_FAULTS = (
    requests.exceptions.RequestException,
    outbound_http.DeadlinePassed,
    outbound_http.UndecodableBody,
    urllib3.exceptions.HTTPError,
    http.client.HTTPException,
    OSError,
)

logger = logging.getLogger(__name__)


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
        """Only calls to an upstream open one: the embedded API is called in this process. Its
        connections can be cut at each call's deadline (portal/outbound_http.py)."""
        session = requests.Session()
        session.trust_env = False
        adapter = outbound_http.CuttableAdapter()
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        return session

    def _call(
        self,
        method: str,
        path: str,
        environment: str,
        answer: contract.Shape | None = None,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The `data` of the call's answer, checked against the shape `answer` (webhooks_app/contract.py);
        {} for a caller that has no use for it. Anything else is a ManagementApiError."""
        # Reads get the short budget (a page must not hang on them); changes and test connections
        # wait longer, since the API may be talking to a receiver meanwhile.
        timeout = settings.AUTOQL_API_TIMEOUT if method == "GET" else settings.AUTOQL_API_CHANGE_TIMEOUT
        call = f"{method} {API_PATH}{path} with the {environment} key"
        query = {"key": api_keys()[environment], **(params or {})}
        if self.embedded:
            answered = call_in_process(method, API_PATH + path, query, json)
            status, content = answered.status_code, cast(HttpResponse, answered).content
        else:
            status, content = self._request(method, path, query, json, timeout, call)
        self.last_status = status
        envelope = self._envelope(status, content, call)
        if not 200 <= status < 300:
            raise self._error(status, envelope, environment, call)
        if answer is None:
            return {}
        try:
            data: dict[str, Any] = answer.validate_python(envelope.data)
        except ValidationError as e:
            raise _unexpected(status, call, _first_problem(e, "data"))
        return data

    def _envelope(self, status: int, content: bytes, call: str) -> contract.Envelope:
        try:
            body = contract.parse_answer(content)
        except contract.NotContractJson as e:
            raise _unexpected(status, call, str(e))
        if not isinstance(body, dict):
            raise _unexpected(status, call, "not a JSON object")
        try:
            return contract.Envelope.model_validate(body)
        except ValidationError as e:
            raise _unexpected(status, call, _first_problem(e, "the answer"))

    def _request(
        self, method: str, path: str, query: dict[str, Any], body: Any, timeout: float, call: str
    ) -> tuple[int, bytes]:
        """One call to the upstream AutoQL over HTTP: its status and body. All of it within
        `timeout` seconds (connecting, the headers and the body, however slowly they come), and at
        most AUTOQL_API_MAX_RESPONSE_BYTES of body, decompressed, ever held."""
        ends_at = time.monotonic() + timeout
        cap = settings.AUTOQL_API_MAX_RESPONSE_BYTES
        with outbound_http.deadline(ends_at) as cut:
            try:
                headers = {"Authorization": f"Bearer {settings.AUTOQL_TOKEN}", "Accept": "application/json"}
                request = requests.Request(method, f"{self.base_url}{path}", params=query, json=body, headers=headers)
                response = outbound_http.send_once(
                    self.session, self.session.prepare_request(request), (min(5.0, timeout), timeout)
                )
                with response:
                    content, over_cap = outbound_http.read_capped(response.raw, cap, ends_at)
                if cut.is_set():
                    # Cut while reading: what came before the cut may look like a whole answer.
                    raise outbound_http.DeadlinePassed
            except TRANSPORT_FAULTS as e:
                raise self._transport_error(e, cut.is_set(), timeout, call)
        if over_cap:
            raise ManagementApiError(
                f"The management API's answer was larger than the {_in_words(cap)} the portal reads.",
                response.status_code,
                cause="too-large",
                detail=f"{call}: {response.status_code}, more than {cap} bytes. AUTOQL_API_MAX_RESPONSE_BYTES "
                "is the limit; a smaller page of logs asks for less.",
            )
        return response.status_code, content

    def _transport_error(self, error: Exception, cut: bool, timeout: float, call: str) -> ManagementApiError:
        """What went wrong on the way to the upstream, or on the way back, in plain words."""
        if isinstance(error, requests.exceptions.ConnectTimeout) and not cut:
            return ManagementApiError(
                f"The management API could not be reached in {timeout:g} s.",
                cause="unreachable",
                detail=f"{call}: no connection to {self.domain} (AUTOQL_DOMAIN). Check that the service is up.",
            )
        if cut or isinstance(error, (outbound_http.DeadlinePassed, requests.exceptions.Timeout)):
            return ManagementApiError(
                f"The management API did not answer in {timeout:g} s.",
                cause="timeout",
                detail=f"{call}: no whole answer from {self.domain} within {timeout:g} s "
                "(AUTOQL_API_TIMEOUT for reads, AUTOQL_API_CHANGE_TIMEOUT for changes).",
            )
        if isinstance(error, outbound_http.UndecodableBody):
            return _unexpected(None, call, "a body that does not decompress as its Content-Encoding says")
        if isinstance(error, requests.exceptions.RequestException):
            return ManagementApiError(
                "The management API could not be reached.",
                cause="unreachable",
                detail=f"{call}: the connection to {self.domain} (AUTOQL_DOMAIN) failed. "
                "Check AUTOQL_DOMAIN and that the service is up.",
            )
        # The headers came, then the connection broke before the body was whole.
        return ManagementApiError(
            "The management API's answer broke off; try again in a moment.",
            cause="failed",
            detail=f"{call}: the answer from {self.domain} broke off ({type(error).__name__}).",
        )

    def _error(self, status: int, body: contract.Envelope, environment: str, call: str) -> ManagementApiError:
        # An upstream may echo what it was sent; the portal's credentials never reach a page.
        message = body.message or ""
        for credential in (settings.AUTOQL_TOKEN, *api_keys().values()):
            if credential:
                message = message.replace(credential, "[credential removed]")
        if len(message) > MAX_MESSAGE_LENGTH:
            message = message[: MAX_MESSAGE_LENGTH - 1] + "…"
        field_errors = body.errors or {}
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

    def _asked_upstream(self, action: str, environment: str, detail: str = "") -> None:
        """Against an upstream AutoQL the change happens there, which keeps its own trail; this
        portal's trail keeps that its person asked for it. The embedded API records its changes
        where they happen (audit/trail.py), so the portal records nothing of its own there."""
        if not self.embedded:
            record(action, environment=environment, detail=detail)

    @property
    def domain(self) -> str:
        return self.base_url.removesuffix(API_PATH)

    # The six calls of AutoQL's Webhooks page, in its order; paths and bodies as docs/api.md
    # describes them, answers as webhooks_app/contract.py checks them.

    def get_webhook(self, environment: str) -> dict[str, Any] | None:
        """GET /webhooks: AutoQL's page, "Accessing Webhook Secret Keys", Using APIs."""
        data = self._call("GET", "/webhooks", environment, contract.WEBHOOK_LIST)
        return next((w for w in data["items"] if w.get("environment", environment) == environment), None)

    def put_webhook(self, environment: str, url: str) -> dict[str, Any]:
        """PUT /webhooks/{environment}: "Creating and maintaining Webhooks", Create or update."""
        webhook = self._call("PUT", f"/webhooks/{environment}", environment, contract.WEBHOOK, json={"url": url})
        self._asked_upstream(
            Action.WEBHOOK_CREATED if self.last_status == 201 else Action.URL_CHANGED, environment, url
        )
        return webhook

    def regenerate_secret(self, environment: str) -> dict[str, Any]:
        """PUT /webhooks/{environment}/secret: "Regenerate Webhook Secret"."""
        webhook = self._call("PUT", f"/webhooks/{environment}/secret", environment, contract.WEBHOOK, json={})
        self._asked_upstream(Action.SECRET_REGENERATED, environment)
        return webhook

    def delete_webhook(self, environment: str) -> None:
        """DELETE /webhooks/{environment}: "Delete"."""
        self._call("DELETE", f"/webhooks/{environment}", environment)
        self._asked_upstream(Action.WEBHOOK_DELETED, environment)

    def test_connection(self, environment: str) -> dict[str, Any]:
        """POST /webhooks/{environment}/test: "Test connection"."""
        result = self._call(
            "POST", f"/webhooks/{environment}/test", environment, contract.CONNECTION_TEST_RESULT, json={}
        )
        outcome = connection_test_outcome(bool(result.get("success")), result.get("status_code"), result.get("error"))
        self._asked_upstream(Action.CONNECTION_TESTED, environment, outcome)
        return result

    # This project's own additions (docs/api.md).

    def resend(self, environment: str, log_id: str) -> None:
        self._call("POST", f"/webhooks/{environment}/logs/{quote(log_id, safe='')}/resend", environment, json={})
        self._asked_upstream(Action.DELIVERY_RESENT, environment, f"Log row {log_id}")

    def queue_event(self, environment: str, event: str, payload: dict[str, Any]) -> dict[str, Any]:
        """POST /webhooks/{environment}/events: one data alert, queued for the worker to deliver."""
        body = {"event": event, "payload": payload}
        queued = self._call("POST", f"/webhooks/{environment}/events", environment, contract.QUEUED_EVENT, json=body)
        self._asked_upstream(Action.EVENT_QUEUED, environment, event_detail(event, payload))
        return queued

    def enable_webhook(self, environment: str) -> dict[str, Any]:
        webhook = self._call("PUT", f"/webhooks/{environment}/enable", environment, contract.WEBHOOK, json={})
        self._asked_upstream(Action.WEBHOOK_ENABLED, environment)
        return webhook

    # Rolling a secret (docs/api-additions.md): only the roll's own answer holds `next_secret`.

    def roll_secret(self, environment: str, expires_in_hours: int) -> dict[str, Any]:
        body = {"expires_in_hours": expires_in_hours}
        webhook = self._call(
            "POST", f"/webhooks/{environment}/secret/roll", environment, contract.ROLLED_WEBHOOK, json=body
        )
        self._asked_upstream(
            Action.ROLL_STARTED, environment, f"Next secret signs from {webhook['next_secret_activates_at']}"
        )
        return webhook

    def complete_secret_roll(self, environment: str) -> dict[str, Any]:
        path = f"/webhooks/{environment}/secret/roll/complete"
        webhook = self._call("POST", path, environment, contract.WEBHOOK, json={})
        self._asked_upstream(Action.ROLL_COMPLETED, environment)
        return webhook

    def cancel_secret_roll(self, environment: str) -> dict[str, Any]:
        webhook = self._call("DELETE", f"/webhooks/{environment}/secret/roll", environment, contract.WEBHOOK)
        self._asked_upstream(Action.ROLL_CANCELLED, environment)
        return webhook

    def logs(self, environment: str, offset: int, limit: int, fields: Sequence[str] = ()) -> dict[str, Any]:
        """GET /webhooks/{environment}/logs: "Viewing Webhook Logs", Using APIs.

        `fields`: only those fields of each row are needed (docs/api.md, "Logs: fields")."""
        params = {"offset": offset, "limit": limit} | self._fields_parameter(fields)
        return self._call("GET", f"/webhooks/{environment}/logs", environment, contract.LOGS_PAGE, params=params)

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
        return frozenset(data["pagination"].get("filters") or ())

    def filtered_logs(
        self,
        environment: str,
        offset: int,
        limit: int,
        filters: Mapping[str, str],
        fields: Sequence[str] = (),
        from_oldest: bool = False,
    ) -> dict[str, Any]:
        """GET .../logs with filters, e.g. {"status": "failure", "created_after": "2026-11-28T00:00:00Z"}.

        `from_oldest`: the offset counts from the oldest row (docs/api-additions.md, "Paging from
        the oldest row"); only the embedded API is asked, and its answer says `end` if it did so."""
        params = {**filters, "offset": offset, "limit": limit} | self._fields_parameter(fields)
        if from_oldest and self.embedded:
            params["end"] = "oldest"
        return self._call("GET", f"/webhooks/{environment}/logs", environment, contract.LOGS_PAGE, params=params)

    def log_row(self, environment: str, log_id: str) -> dict[str, Any]:
        """One log row with its request and response, for the row the reader opens."""
        path = f"/webhooks/{environment}/logs/{quote(log_id, safe='')}"
        return self._call("GET", path, environment, contract.LOG_ROW)

    def delivery(self, environment: str, delivery_id: str) -> dict[str, Any]:
        """A delivery and every attempt of it, oldest first."""
        path = f"/webhooks/{environment}/deliveries/{quote(delivery_id, safe='')}"
        return self._call("GET", path, environment, contract.DELIVERY)

    def deliveries(
        self,
        environment: str,
        offset: int,
        limit: int,
        filters: Mapping[str, str] | None = None,
        from_oldest: bool = False,
    ) -> dict[str, Any]:
        """A page of deliveries, one row each with its outcome and last attempt (the logs' filters
        apply; `from_oldest` as for filtered_logs). A plain AutoQL has no such call: it answers 404,
        and the tab shows attempts only."""
        params: dict[str, Any] = {**(filters or {}), "offset": offset, "limit": limit}
        if from_oldest:
            params["end"] = "oldest"
        path = f"/webhooks/{environment}/deliveries"
        return self._call("GET", path, environment, contract.DELIVERIES_PAGE, params=params)

    def recoverable_count(self, environment: str, since: str) -> int:
        """How many failed deliveries since `since` (ISO 8601) recover would send again."""
        path = f"/webhooks/{environment}/recover"
        data = self._call("GET", path, environment, contract.RECOVER_COUNT, params={"since": since})
        return int(data["count"])

    def recover(self, environment: str, since: str) -> int:
        """Send again every failed delivery since `since`; how many were queued."""
        path = f"/webhooks/{environment}/recover"
        data = self._call("POST", path, environment, contract.RECOVERED, json={"since": since})
        self._asked_upstream(Action.DELIVERIES_RECOVERED, environment, recover_detail(int(data["queued"]), since))
        return int(data["queued"])

    def stats(self, environment: str, window: str = "24h") -> dict[str, Any]:
        """Attempts, successes, failures, durations and chart buckets of the last 24h, 7d or 30d."""
        path = f"/webhooks/{environment}/stats"
        return self._call("GET", path, environment, contract.STATS, params={"window": window})

    def export_logs(self, environment: str, file_format: str, filters: Mapping[str, str]) -> LogExport:
        """The matching log rows as a CSV or JSON Lines file, read as it arrives (never held whole)."""
        path = f"/webhooks/{environment}/logs/export"
        query = {"key": api_keys()[environment], **filters, "format": file_format}
        call = f"GET {API_PATH}{path} with the {environment} key"
        chunks: Iterator[bytes]
        if self.embedded:
            answer = call_in_process("GET", API_PATH + path, query)
            if answer.status_code != 200:
                content = cast(HttpResponse, answer).content
                raise self._error(
                    answer.status_code, self._envelope(answer.status_code, content, call), environment, call
                )
            streamed = cast(Iterator[bytes], cast(StreamingHttpResponse, answer).streaming_content)
            chunks = (bytes(chunk) for chunk in streamed)
            disposition, content_type = answer.get("Content-Disposition", ""), answer.get("Content-Type")
        else:
            response, first = self._start_export(path, query, environment, call)
            chunks = self._rest_of_export(response, first)
            disposition, content_type = (
                response.headers.get("Content-Disposition", ""),
                response.headers.get("Content-Type") or "",
            )
        self._asked_upstream(Action.LOGS_EXPORTED, environment, export_detail(file_format, filters))
        match = re.search(r'filename="([A-Za-z0-9._-]+)"', disposition)
        return LogExport(
            filename=match.group(1) if match else f"webhook-logs-{environment}.{file_format}",
            # Passed on to the browser: a plain media type, or none.
            content_type=content_type
            if content_type and MEDIA_TYPE.fullmatch(content_type)
            else "application/octet-stream",
            chunks=chunks,
        )

    def _start_export(
        self, path: str, query: dict[str, Any], environment: str, call: str
    ) -> tuple[requests.Response, bytes]:
        """The upstream's export once its first bytes came, within AUTOQL_API_TIMEOUT like any read.
        The rest may be large and take long: it is bounded by the time of each read, not in all."""
        timeout = settings.AUTOQL_API_TIMEOUT
        ends_at = time.monotonic() + timeout
        response: requests.Response | None = None
        with outbound_http.deadline(ends_at) as cut:
            try:
                headers = {"Authorization": f"Bearer {settings.AUTOQL_TOKEN}"}
                request = requests.Request("GET", f"{self.base_url}{path}", params=query, headers=headers)
                response = outbound_http.send_once(
                    self.session, self.session.prepare_request(request), (min(5.0, timeout), timeout)
                )
                if response.status_code != 200:
                    with response:
                        cap = settings.AUTOQL_API_MAX_RESPONSE_BYTES
                        content, _ = outbound_http.read_capped(response.raw, cap, ends_at)
                    status = response.status_code
                    raise self._error(status, self._envelope(status, content, call), environment, call)
                first = response.raw.read1(EXPORT_CHUNK, decode_content=True)
                if cut.is_set():
                    raise outbound_http.DeadlinePassed
            except TRANSPORT_FAULTS as e:
                if response is not None:
                    response.close()
                raise self._transport_error(e, cut.is_set(), timeout, call)
        return response, first

    def _rest_of_export(self, response: requests.Response, first: bytes) -> Iterator[bytes]:
        """The export's bytes as they come; each read waits at most AUTOQL_API_TIMEOUT (the
        session's read timeout). A connection that breaks off ends the download as failed, not as
        a shorter file."""
        try:
            yield first
            yield from response.iter_content(chunk_size=EXPORT_CHUNK)
        except TRANSPORT_FAULTS as e:
            logger.warning("The log export from %s broke off: %s", self.domain, type(e).__name__)
            raise
        finally:
            response.close()


# A media type with at most a charset, as a browser may be given it.
MEDIA_TYPE = re.compile(r"[A-Za-z0-9!#$&^_.+-]{1,64}/[A-Za-z0-9!#$&^_.+-]{1,64}(; ?charset=[A-Za-z0-9_-]{1,32})?")


def _unexpected(status: int | None, call: str, what: str) -> ManagementApiError:
    answered = "" if status is None else f"{status}, "
    return ManagementApiError(
        UNEXPECTED, status, cause="unexpected", detail=f"{call}: {answered}{what}. {CHECK_DOMAIN}"
    )


def _in_words(size: int) -> str:
    for unit, factor in (("MiB", 1024 * 1024), ("KiB", 1024)):
        if size >= factor:
            return f"{size / factor:g} {unit}"
    return f"{size} bytes"


def _first_problem(error: ValidationError, where: str) -> str:
    """Where the answer left the contract, without the value found there (it may be a secret)."""
    problem = error.errors(include_url=False, include_input=False, include_context=False)[0]
    location = ".".join([where, *(str(part)[:40] for part in problem["loc"])])
    return f"{location}: {problem['msg']}"
