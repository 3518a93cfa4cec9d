"""Bad input to the API gets a clear 4xx in its JSON shape and stores nothing, on SQLite and PostgreSQL."""

import json
from urllib.parse import quote

import pytest

from management_api.alerts import data_alert_payload
from management_api.models import Delivery, Webhook, WebhookLog

HOOK = "https://h.example.com/hook"
TOO_LARGE = 3 * 1024 * 1024


def event_body(**raw: str) -> bytes:
    """A valid data alert event as JSON text, with some values replaced by raw JSON fragments.

    Raw text, because json.dumps cannot write what these tests send: NaN with allow_nan off, a
    lone surrogate or NUL only as escapes.
    """
    payload = data_alert_payload("project1", "High Sales", "Goal reached")
    payload["query_result"] = {"reference_id": "1.1.200", "message": "ok", "data": {"rows": "@@data@@"}}
    for name in raw:
        if name != "data":
            payload[name] = f"@@{name}@@"
    text = json.dumps({"event": "data_alert.true", "payload": payload})
    text = text.replace('"@@data@@"', raw.get("data", "[]"))
    for name, fragment in raw.items():
        text = text.replace(f'"@@{name}@@"', fragment)
    return text.encode()


def url_body(fragment: str) -> bytes:
    return ('{"url": "' + HOOK + fragment + '"}').encode()


EVENTS = "/webhooks/sandbox/events"
# (method, path, raw body, query string, status, field the message names)
API_CASES = {
    "url with a lone surrogate": ("PUT", "/webhooks/sandbox", url_body("\\ud800"), "", 400, "url"),
    "url with a lone low surrogate": ("PUT", "/webhooks/sandbox", url_body("\\udfff"), "", 400, "url"),
    "url with NUL": ("PUT", "/webhooks/sandbox", url_body("\\u0000"), "", 400, "url"),
    "created_at NaN": ("POST", EVENTS, event_body(created_at="NaN"), "", 400, "payload.created_at"),
    "created_at Infinity": ("POST", EVENTS, event_body(created_at="Infinity"), "", 400, "payload.created_at"),
    "created_at -Infinity": ("POST", EVENTS, event_body(created_at="-Infinity"), "", 400, "payload.created_at"),
    "created_at 1e400": ("POST", EVENTS, event_body(created_at="1e400"), "", 400, "payload.created_at"),
    "created_at with 5000 digits": ("POST", EVENTS, event_body(created_at="9" * 5000), "", 400, None),
    "NaN in query_result.data": (
        "POST",
        EVENTS,
        event_body(data='{"total": NaN}'),
        "",
        400,
        "payload.query_result.data.rows.total",
    ),
    "NaN in a list": ("POST", EVENTS, event_body(data="[1, NaN]"), "", 400, "payload.query_result.data.rows[1]"),
    "NUL in the title": ("POST", EVENTS, event_body(title='"High\\u0000Sales"'), "", 400, "payload.title"),
    "NUL in a user": ("POST", EVENTS, event_body(users='["user\\u0000"]'), "", 400, "payload.users[0]"),
    "NUL in a data key": (
        "POST",
        EVENTS,
        event_body(data='{"a\\u0000": 1}'),
        "",
        400,
        "payload.query_result.data.rows",
    ),
    "NUL in a data value": (
        "POST",
        EVENTS,
        event_body(data='["\\u0000"]'),
        "",
        400,
        "payload.query_result.data.rows[0]",
    ),
    "lone surrogate in the message": ("POST", EVENTS, event_body(message='"\\udc00 hi"'), "", 400, "payload.message"),
    "JSON nested too deeply": ("POST", EVENTS, event_body(data="[" * 100_000 + "]" * 100_000), "", 400, None),
    "body over 2.5 MB": ("PUT", "/webhooks/sandbox", b'{"url": "' + b"a" * TOO_LARGE + b'"}', "", 413, None),
    "event over 2.5 MB": ("POST", EVENTS, event_body(message='"' + "a" * TOO_LARGE + '"'), "", 413, None),
    "offset in superscript": ("GET", "/webhooks/sandbox/logs", None, "&offset=%C2%B2", 400, "offset"),
    "offset in Arabic-Indic digits": ("GET", "/webhooks/sandbox/logs", None, "&offset=%D9%A1", 400, "offset"),
    "limit in full-width digits": ("GET", "/webhooks/sandbox/logs", None, "&limit=%EF%BC%91%EF%BC%90", 400, "limit"),
    "NUL in a query parameter": ("GET", "/webhooks/sandbox/logs", None, "&offset=1%00", 400, "offset"),
    "log id in superscript": ("POST", f"/webhooks/sandbox/logs/{quote('²')}/resend", b"{}", "", 404, None),
    "log id in Arabic-Indic digits": ("POST", f"/webhooks/sandbox/logs/{quote('١')}/resend", b"{}", "", 404, None),
    "log id with NUL": ("POST", "/webhooks/sandbox/logs/1%00/resend", b"{}", "", 404, None),
}


def store_a_webhook_and_a_log() -> dict[str, int]:
    """A webhook and one logged delivery: what bad input must leave exactly as it was."""
    Webhook.objects.create(environment="sandbox", url=HOOK, secret="s" * 43)
    logged_row()
    return {"logs": WebhookLog.objects.count(), "deliveries": Delivery.objects.count()}


@pytest.fixture
def stored(db) -> dict[str, int]:
    return store_a_webhook_and_a_log()


def logged_row() -> WebhookLog:
    delivery = Delivery.objects.create(
        environment="sandbox", type="data_alert", event="data_alert.true", project_id="p1", payload={}, state="failed"
    )
    return WebhookLog.objects.create(
        environment="sandbox",
        delivery_id=delivery.id,
        attempt=1,
        project_id="p1",
        type="data_alert",
        event="data_alert.true",
        status="failure",
        code=503,
        url=HOOK,
        duration_ms=1,
    )


def assert_nothing_stored(before) -> None:
    [webhook] = Webhook.objects.all()
    assert webhook.url == HOOK
    assert WebhookLog.objects.count() == before["logs"]
    assert Delivery.objects.count() == before["deliveries"]


@pytest.mark.parametrize("case", API_CASES.values(), ids=API_CASES.keys())
def test_the_api_refuses_bad_input_with_a_clear_json_error(api, stored, case):
    method, path, raw, query, status, field = case
    response = api.call(method, path, raw=raw, query=query)
    assert response.status_code == status, response.content[:300]
    body = response.json()
    assert body["reference_id"] == f"1.1.{status}"
    assert body["message"] and "Traceback" not in body["message"]
    if field:
        assert body["message"].startswith(f"{field}:") or f"'{field}'" in body["message"]
        assert body["errors"] == {field: [body["message"]]}
    assert_nothing_stored(stored)


def test_a_valid_surrogate_pair_is_accepted(api, stored):
    response = api.call("POST", EVENTS, raw=event_body(title='"Sales \\ud83d\\ude00"'))
    assert response.status_code == 202, response.content
    assert Delivery.objects.latest("created_at").payload["title"] == "Sales \U0001f600"


def test_the_api_answers_413_in_its_json_shape(api, stored):
    response = api.call("PUT", "/webhooks/sandbox", raw=b" " * TOO_LARGE)
    assert response.status_code == 413
    assert response.json() == {"message": "The request body is larger than 2.5 MB.", "reference_id": "1.1.413"}
