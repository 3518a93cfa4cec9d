"""No secret, API key or token in a page before Reveal, in the logs, or in an error.

At rest, the database holds no secret in the clear: tests/management_api/test_secrets_at_rest.py.
"""

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from management_api.models import Webhook, WebhookLog
from tests.ports import closed_port
from tests.webhooks_app.conftest import tab_html

HX: dict[str, Any] = {"HTTP_HX_REQUEST": "true"}
API = "/autoql/management/api/v1/notifications"


def credentials() -> list[str]:
    return [settings.AUTOQL_SANDBOX_API_KEY, settings.AUTOQL_PRODUCTION_API_KEY, settings.AUTOQL_TOKEN]


def stored_secrets() -> list[str]:
    found = []
    for webhook in Webhook.objects.all():
        found += [webhook.secret] + ([webhook.next_secret] if webhook.next_secret else [])
    return found


def leaked(text: str, secrets: list[str]) -> list[str]:
    return [secret for secret in secrets if secret and secret in text]


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def pages(client: Client, as_manager: bool) -> Iterator[tuple[str, str]]:
    """The tab, its cards and logs (every row's detail included), and every modal."""
    for path in ["/", "/?env=production", "/?env=sandbox&size=100", "/?env=sandbox&page=2"]:
        yield path, client.get(path).content.decode()
        yield f"{path} (logs)", client.get(path, HTTP_HX_TARGET="logs", **HX).content.decode()
    if not as_manager:
        return
    for environment in ("sandbox", "production"):
        for action in ["generate", "generate?url=https://a.example.com/", "regenerate", "delete", "roll"]:
            path = f"/webhooks/{environment}/{action}"
            yield path, client.get(path, **HX).content.decode()
        for action in ["roll/complete", "roll/cancel"]:
            path = f"/webhooks/{environment}/{action}"
            yield path, client.get(path, **HX).content.decode()
        # The test connection's result modal (the receiver is unreachable: a refused address).
        yield f"{environment} test", client.post(f"/webhooks/{environment}/test", **HX).content.decode()


@pytest.mark.parametrize("role", ["manager", "viewer"])
def test_no_page_shows_a_secret_before_reveal(request, webhooks, role):
    client = signed_in(request.getfixturevalue(role))
    secrets = stored_secrets() + credentials()
    assert len(stored_secrets()) == 3  # two webhooks and the next secret of the pending roll
    shown = list(pages(client, as_manager=role == "manager"))
    assert len(shown) >= 8
    for path, html in shown:
        assert not leaked(html, secrets), f"{role}: {path}"
    # ... while a manager's Reveal does show it: the check above looks for the right text.
    if role == "manager":
        sandbox = Webhook.objects.get(environment="sandbox").secret
        assert sandbox in client.post("/webhooks/sandbox/reveal", **HX).content.decode()


def test_no_secret_key_or_token_in_the_logs(manager, db, httpserver, allow_loopback, caplog):
    caplog.set_level(logging.DEBUG)
    client = signed_in(manager)
    seen: list[str] = []

    def remember() -> None:
        seen.extend(stored_secrets())

    httpserver.expect_request("/hook").respond_with_json({"message": "ok"})
    assert client.post("/webhooks/sandbox/generate", {"url": httpserver.url_for("/hook")}, **HX).status_code == 200
    remember()
    assert "Connection succeeded" in client.post("/webhooks/sandbox/test", **HX).content.decode()
    assert client.post("/webhooks/sandbox/regenerate", **HX).status_code == 200
    remember()
    assert client.post("/webhooks/sandbox/roll", {"expires_in_hours": "1"}, **HX).status_code == 200
    remember()
    assert client.post("/webhooks/sandbox/roll/complete", **HX).status_code == 200
    assert client.post("/webhooks/sandbox/test", **HX).status_code == 200
    log = WebhookLog.objects.filter(environment="sandbox").order_by("pk").first()
    assert log is not None
    assert client.post(f"/webhooks/sandbox/logs/{log.pk}/resend", **HX).status_code == 204
    assert client.post("/webhooks/sandbox/reveal", **HX).status_code == 200
    assert client.get("/?env=sandbox").status_code == 200

    assert len(set(seen)) == 3
    assert caplog.records  # the cycle was logged, at DEBUG too
    assert not leaked(caplog.text, seen + credentials())


def test_no_api_key_in_the_logs_against_an_upstream(manager, db, settings, httpserver, caplog):
    # Over HTTP the key travels in the query string, which urllib3 writes at DEBUG level.
    settings.AUTOQL_DOMAIN = httpserver.url_for("").rstrip("/")
    httpserver.expect_request(f"{API}/webhooks").respond_with_json({"data": {"items": []}})
    httpserver.expect_request(f"{API}/webhooks/sandbox/logs").respond_with_json(
        {"data": {"items": [], "pagination": {"offset": 0, "limit": 10, "total_items": 0}}}
    )
    caplog.set_level(logging.DEBUG)
    tab_html(signed_in(manager))
    # Both cards, the logs, and the health panel's stats (which this upstream does not answer).
    assert len(httpserver.log) == 4
    # The portal's logs, not the access log of the test's upstream (werkzeug) on the other side.
    portal_log = "\n".join(f"{r.name} {r.getMessage()}" for r in caplog.records if not r.name.startswith("werkzeug"))
    assert portal_log
    assert not leaked(portal_log, credentials())


def tab_parts(client) -> str:
    """The tab and the parts it loads, whatever their status (they fail here on purpose)."""
    paths = ["/", "/webhooks/sandbox/card", "/webhooks/production/card", "/logs"]
    return "".join(client.get(path, **HX).content.decode() for path in paths)


def echo(status: int, as_json: bool):
    """An upstream that fails and repeats the whole request back: URL (key), headers (token)."""

    def answer(request: Request) -> Response:
        said = f"{request.url} {dict(request.headers)}"
        if as_json:
            return Response(f'{{"message": "{said}"}}'.replace("'", ""), status=status, content_type="application/json")
        return Response(said, status=status, content_type="text/plain")

    return answer


@pytest.mark.parametrize("status,as_json", [(500, True), (502, False), (200, False)])
def test_a_failing_upstream_shows_no_key_or_token(manager, db, settings, httpserver: HTTPServer, status, as_json):
    settings.AUTOQL_DOMAIN = httpserver.url_for("").rstrip("/")
    httpserver.expect_request(f"{API}/webhooks").respond_with_handler(echo(status, as_json))
    httpserver.expect_request(f"{API}/webhooks/sandbox/logs").respond_with_handler(echo(status, as_json))
    httpserver.expect_request(f"{API}/webhooks/sandbox/secret").respond_with_handler(echo(status, as_json))
    client = signed_in(manager)
    tab = tab_parts(client)
    modal = client.post("/webhooks/sandbox/regenerate", **HX)
    assert modal.status_code == 502
    assert "load the Sandbox webhook" in tab and "Regenerating the secret failed" in modal.content.decode()
    assert any(settings.AUTOQL_TOKEN in request.headers["Authorization"] for request, _ in httpserver.log)
    for html in (tab, modal.content.decode()):
        assert not leaked(html, credentials())


def test_an_unreachable_upstream_shows_no_key_or_token(manager, db, settings):
    with closed_port() as port:
        settings.AUTOQL_DOMAIN = f"http://127.0.0.1:{port}"
        client = signed_in(manager)
        tab = tab_parts(client)
        modal = client.post("/webhooks/sandbox/regenerate", **HX).content.decode()
    assert "could not be reached" in tab and "could not be reached" in modal
    for html in (tab, modal):
        assert not leaked(html, credentials())


def test_an_api_failure_in_process_shows_no_secret(manager, webhooks, monkeypatch, caplog):
    def database_gone(self: Webhook) -> None:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(Webhook, "replace_secret", database_gone)
    caplog.set_level(logging.DEBUG)
    response = signed_in(manager).post("/webhooks/sandbox/regenerate", **HX)
    assert response.status_code == 502
    html = response.content.decode()
    assert "Regenerating the secret failed" in html and "Traceback" not in html
    assert "the database went away" in caplog.text  # the operator's log has the cause
    assert not leaked(html + caplog.text, stored_secrets() + credentials())
