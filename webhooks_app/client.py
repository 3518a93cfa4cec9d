"""The portal's one client of AutoQL's management API.

Every call is one of AutoQL's management API (docs/api.md): the
environment's API key as `key`, the bearer token in `Authorization`. With AUTOQL_DOMAIN set the
calls go to that domain; without it, the same requests are handed to this project's own WSGI
application in-process (the embedded API), so the portal never calls its own server over the
network and a single sync worker cannot deadlock waiting for itself.
"""

import io
import sys
from dataclasses import dataclass, field
from typing import Any, cast
from urllib.parse import quote, urlsplit

import requests
from django.conf import settings
from django.core.handlers.base import BaseHandler
from django.core.handlers.wsgi import WSGIRequest
from django.http import HttpResponse
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

from portal.credentials import api_keys

API_PATH = "/autoql/management/api/v1/notifications"
UNEXPECTED = (
    "The management API answered in a shape the portal does not know; "
    "check that AUTOQL_DOMAIN points at an AutoQL management API."
)


@dataclass
class ManagementApiError(Exception):
    """A call that did not succeed, with a sentence a person can act on."""

    message: str
    status: int | None = None
    field_errors: dict[str, list[str]] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.message


class InProcessAdapter(BaseAdapter):
    """A requests transport that runs the request through this project's Django app directly."""

    def __init__(self) -> None:
        super().__init__()
        self.handler = BaseHandler()
        self.handler.load_middleware()

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float | None, float | None] | None = None,
        verify: bool | str = True,
        cert: str | tuple[str, str] | None = None,
        proxies: dict[str, str] | None = None,
    ) -> requests.Response:
        parts = urlsplit(request.url or "")
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode()
        if not isinstance(body, bytes):
            # The client only ever sends JSON bodies, which requests has already encoded.
            raise TypeError("The in-process adapter takes bodies of bytes only.")
        environ = {
            "REQUEST_METHOD": request.method,
            "PATH_INFO": parts.path,
            "QUERY_STRING": parts.query,
            "SERVER_NAME": parts.hostname,
            "SERVER_PORT": "443",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.url_scheme": parts.scheme,
            "wsgi.version": (1, 0),
            "wsgi.multithread": True,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
        }
        for name, value in request.headers.items():
            key = name.upper().replace("-", "_")
            environ[key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else f"HTTP_{key}"] = value
        # get_response, not the WSGI handler's __call__: that would send request_started and
        # request_finished, which close the database connection the outer request still uses.
        django_response = self.handler.get_response(WSGIRequest(environ))
        response = requests.Response()
        response.status_code = django_response.status_code
        response.headers = CaseInsensitiveDict(django_response.items())
        # The embedded API answers with plain (not streaming) responses.
        response._content = cast(HttpResponse, django_response).content
        response.url = request.url or ""
        response.request = request
        response.reason = django_response.reason_phrase
        return response

    def close(self) -> None:
        pass


_in_process_adapter: InProcessAdapter | None = None


def _embedded_adapter() -> InProcessAdapter:
    global _in_process_adapter
    if _in_process_adapter is None:
        _in_process_adapter = InProcessAdapter()
    return _in_process_adapter


class ManagementApi:
    def __init__(self) -> None:
        self.session = requests.Session()
        self.session.trust_env = False
        if settings.AUTOQL_DOMAIN:
            self.base_url = settings.AUTOQL_DOMAIN + API_PATH
        else:
            self.base_url = f"https://{settings.EMBEDDED_API_HOST}{API_PATH}"
            self.session.mount(f"https://{settings.EMBEDDED_API_HOST}/", _embedded_adapter())

    def _call(
        self, method: str, path: str, environment: str, *, json: Any = None, params: dict[str, Any] | None = None
    ) -> Any:
        try:
            response = self.session.request(
                method,
                f"{self.base_url}{path}",
                json=json,
                params={"key": api_keys()[environment], **(params or {})},
                headers={"Authorization": f"Bearer {settings.AUTOQL_TOKEN}", "Accept": "application/json"},
                timeout=settings.AUTOQL_API_TIMEOUT,
                allow_redirects=False,
            )
        except requests.exceptions.Timeout:
            raise ManagementApiError(
                f"The management API did not answer within {settings.AUTOQL_API_TIMEOUT[1]:g} seconds; try again."
            )
        except requests.exceptions.RequestException:
            raise ManagementApiError(
                f"The management API at {self.base_url.split(API_PATH)[0]} could not be reached; "
                "check AUTOQL_DOMAIN and that the service is up."
            )
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise ManagementApiError(
                f"The management API answered {response.status_code} with something that is not JSON; "
                "check that AUTOQL_DOMAIN points at an AutoQL management API.",
                response.status_code,
            )
        if response.ok:
            return body.get("data")
        raise ManagementApiError(
            self._sentence(response.status_code, body, environment), response.status_code, body.get("errors") or {}
        )

    def _sentence(self, status: int, body: dict[str, Any], environment: str) -> str:
        message = body.get("message") or ""
        if status == 401:
            return (
                "The management API refused the portal's credentials; check AUTOQL_TOKEN and "
                f"AUTOQL_{environment.upper()}_API_KEY."
            )
        if status == 403:
            return (
                f"The management API says the {environment} API key belongs to another environment; "
                f"check AUTOQL_{environment.upper()}_API_KEY. ({message})"
            )
        if status >= 500:
            return f"The management API failed ({status}); try again in a moment."
        return message or f"The management API answered {status}."

    # The six calls of AutoQL's Webhooks page, in its order; paths and bodies as docs/api.md
    # describes them.

    def get_webhook(self, environment: str) -> dict[str, Any] | None:
        """GET /webhooks: AutoQL's page, "Accessing Webhook Secret Keys", Using APIs."""
        data = self._call("GET", "/webhooks", environment)
        items = data.get("items") if isinstance(data, dict) else None
        if not isinstance(items, list) or not all(isinstance(w, dict) and "url" in w for w in items):
            raise ManagementApiError(UNEXPECTED)
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

    # This project's own additions (management-api.md, "Two more calls").

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

    def logs(self, environment: str, offset: int, limit: int) -> dict[str, Any]:
        """GET /webhooks/{environment}/logs: "Viewing Webhook Logs", Using APIs."""
        data = self._call(
            "GET", f"/webhooks/{environment}/logs", environment, params={"offset": offset, "limit": limit}
        )
        items = data.get("items") if isinstance(data, dict) else None
        pagination = data.get("pagination") if isinstance(data, dict) else None
        total = pagination.get("total_items") if isinstance(pagination, dict) else None
        if not isinstance(items, list) or not isinstance(total, int):
            raise ManagementApiError(UNEXPECTED)
        return data
