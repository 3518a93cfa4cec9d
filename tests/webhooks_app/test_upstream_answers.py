"""Whatever an upstream management API answers, every part of the tab answers without a 500, an
answer of the contract's shape shows, and one of the wrong shape reads "Couldn't load … Retry"
(webhooks_app/contract.py).

Hypothesis chooses each example's answers: status, headers and the exact body bytes. The upstream
is a raw HTTP server on 127.0.0.1 (conftest.raw_upstream); the portal's views are asked as a
browser asks them, over the test client.
"""

import gzip
import json
import re
from datetime import datetime, timedelta, timezone
from html import escape
from typing import Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from tests.hostile import answer
from tests.webhooks_app.conftest import HX, envelope, json_answer, tab_html, upstream_answer


def bounded(examples: int):
    # derandomize: the same examples on every run; database=None: no .hypothesis/ directory in the
    # tree. The upstream and the signed-in client are the test's, reused by every example.
    return hypothesis_settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


@pytest.fixture
def upstream(raw_upstream, settings):
    settings.AUTOQL_API_TIMEOUT = 2.0
    settings.AUTOQL_API_CHANGE_TIMEOUT = 2.0
    settings.HEALTH_PANEL_CACHE_SECONDS = 0  # every example's stats are asked for
    return raw_upstream


# What the contract allows.

TEXT = st.text(st.characters(exclude_characters="\x00"), max_size=20)
OFFSETS = st.integers(-(23 * 60 + 59), 23 * 60 + 59).map(lambda minutes: timezone(timedelta(minutes=minutes)))
TIME = st.datetimes(datetime(1970, 1, 1), datetime(2999, 12, 31), timezones=OFFSETS).map(datetime.isoformat)
COUNT = st.integers(0, 2**63 - 1)
LOG_ID = st.integers(0, 10**19 - 1) | st.from_regex(r"[0-9]{1,19}", fullmatch=True)
SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | TEXT
JSON_VALUES = st.recursive(
    SCALARS, lambda children: st.lists(children, max_size=3) | st.dictionaries(TEXT, children, max_size=3), max_leaves=6
)
HEADERS = st.dictionaries(TEXT, TEXT, max_size=3)


def nullable(strategy: st.SearchStrategy) -> st.SearchStrategy:
    return st.none() | strategy


WEBHOOKS = st.fixed_dictionaries(
    {"url": TEXT, "secret": TEXT, "created_at": TIME, "updated_at": TIME},
    optional={
        "environment": st.just("sandbox"),
        "disabled": st.booleans(),
        "disabled_reason": nullable(TEXT),
        "failing_since": nullable(TIME),
        "last_error": nullable(TEXT),
        "recovered_at": nullable(TIME),
        "next_secret_activates_at": nullable(TIME),
    },
)
ROWS = st.fixed_dictionaries(
    {"id": LOG_ID},
    optional={
        "environment": nullable(TEXT),
        "project_id": nullable(TEXT),
        "type": nullable(TEXT),
        "event": nullable(TEXT),
        "status": nullable(TEXT),
        "code": nullable(st.integers(-(10**6), 10**20)),
        "created_at": nullable(TIME),
        "url": nullable(TEXT),
        "duration_ms": nullable(COUNT),
        "error": nullable(TEXT),
        "response": JSON_VALUES,
        "delivery_id": nullable(st.uuids().map(str)),
        "attempt": nullable(COUNT),
        "next_attempt_at": nullable(TIME),
        "request_headers": nullable(HEADERS),
        "request_body": nullable(TEXT),
        "response_headers": nullable(HEADERS),
    },
)
PAGINATIONS = st.fixed_dictionaries(
    {"total_items": COUNT},
    optional={
        "offset": nullable(COUNT),
        "limit": nullable(COUNT),
        "total_is_lower_bound": st.booleans(),
        "filters": nullable(st.lists(TEXT, max_size=3)),
    },
)
PAGES = st.fixed_dictionaries({"items": st.lists(ROWS, max_size=5), "pagination": PAGINATIONS})

# What it does not: each kind of field with the values it must refuse.

FLOATS = st.floats(allow_nan=False, allow_infinity=False)
CONTAINERS = st.lists(SCALARS, max_size=2) | st.dictionaries(TEXT, SCALARS, max_size=2)
NOT_TEXT = st.booleans() | st.integers() | FLOATS | CONTAINERS
NOT_WHOLE = st.booleans() | FLOATS | st.text(max_size=4) | CONTAINERS
NOT_A_COUNT = NOT_WHOLE | st.integers(max_value=-1) | st.integers(min_value=2**63)
NOT_BOOL = st.integers() | FLOATS | st.text(max_size=5) | CONTAINERS
BAD_TIMES = st.sampled_from(
    [
        "",
        "yesterday",
        "2026-11-28",
        "2026-11-28T14:00:00",  # no timezone
        "2026-02-30T14:00:00Z",
        "2026-11-28T25:00:00Z",
        "2026-11-28T14:00:00+99:00",
        "0001-01-01T00:00:00+01:00",
        "9999-12-31T23:59:59-01:00",
    ]
)
NOT_A_LOG_ID = (
    st.booleans()
    | FLOATS
    | st.text(max_size=6).filter(lambda text: not re.fullmatch(r"[0-9]{1,19}", text))
    | st.integers(max_value=-1)
    | st.integers(min_value=10**19)
    | CONTAINERS
)
NOT_HEADERS = (
    st.booleans()
    | st.integers()
    | st.text(max_size=5)
    | st.lists(TEXT, max_size=2)
    | st.dictionaries(TEXT, nullable(NOT_TEXT), min_size=1, max_size=2)
)


def nested(depth: int) -> Any:
    value: Any = []
    for _ in range(depth - 1):
        value = [value]
    return value


WRONG = {
    "text": st.none() | NOT_TEXT,
    "text?": NOT_TEXT,
    "time": st.none() | NOT_TEXT | BAD_TIMES,
    "time?": NOT_TEXT | BAD_TIMES,
    "bool?": st.none() | NOT_BOOL,  # null is no boolean either
    "count": st.none() | NOT_A_COUNT,
    "count?": NOT_A_COUNT,
    "whole?": NOT_WHOLE,
    "log id": st.none() | NOT_A_LOG_ID,
    "delivery id?": NOT_TEXT | st.text(max_size=20) | st.just("../" * 12),
    "headers?": NOT_HEADERS,
    "text list?": NOT_TEXT.filter(lambda value: not isinstance(value, list))
    | st.lists(NOT_TEXT, min_size=1, max_size=2),
    "json?": st.integers(33, 60).map(nested),
}
WEBHOOK_FIELDS = {
    "url": "text",
    "secret": "text",
    "created_at": "time",
    "updated_at": "time",
    "disabled": "bool?",
    "disabled_reason": "text?",
    "failing_since": "time?",
    "last_error": "text?",
    "recovered_at": "time?",
    "next_secret_activates_at": "time?",
}
ROW_FIELDS = {
    "id": "log id",
    "project_id": "text?",
    "type": "text?",
    "event": "text?",
    "status": "text?",
    "code": "whole?",
    "created_at": "time?",
    "url": "text?",
    "duration_ms": "count?",
    "error": "text?",
    "response": "json?",
    "delivery_id": "delivery id?",
    "attempt": "count?",
    "next_attempt_at": "time?",
    "request_headers": "headers?",
    "request_body": "text?",
    "response_headers": "headers?",
}
PAGINATION_FIELDS = {
    "total_items": "count",
    "offset": "count?",
    "limit": "count?",
    "total_is_lower_bound": "bool?",
    "filters": "text list?",
}
# Kinds without "?" are required: leaving them out is wrong too.


@st.composite
def broken(draw, valid: st.SearchStrategy, fields: dict[str, str]) -> dict[str, Any]:
    """A valid value with one field missing (if required) or of a value its kind refuses."""
    value = dict(draw(valid))
    name = draw(st.sampled_from(sorted(fields)))
    if not fields[name].endswith("?") and draw(st.booleans()):
        del value[name]
    else:
        value[name] = draw(WRONG[fields[name]])
    return value


@st.composite
def broken_pages(draw) -> Any:
    page = draw(PAGES)
    where = draw(st.sampled_from(["row", "pagination", "items", "no pagination", "too many rows"]))
    if where == "row":
        rows = page["items"] or [draw(ROWS)]
        index = draw(st.integers(0, len(rows) - 1))
        rows[index] = draw(broken(st.just(rows[index]), ROW_FIELDS))
        return {**page, "items": rows}
    if where == "pagination":
        return {**page, "pagination": draw(broken(st.just(page["pagination"]), PAGINATION_FIELDS))}
    if where == "items":
        return {**page, "items": draw(NOT_TEXT.filter(lambda value: not isinstance(value, list)) | st.text())}
    if where == "no pagination":
        return {"items": page["items"]}
    return {**page, "items": [draw(ROWS)] * 101}  # more than the API's largest page


COULDNT_LOAD_CARD = "Couldn&#x27;t load the Sandbox webhook: the management API answered with something"
COULDNT_LOAD_LOGS = "Couldn&#x27;t load the Sandbox logs: the management API answered with something"
ROW_FAILED = "Loading the details of this row failed: The management API answered with something"


def serve_data(upstream, path: str, data: Any) -> None:
    upstream.serve(answer(json_answer(envelope(data))), path)


# The cards.


@given(webhook=WEBHOOKS)
@bounded(25)
def test_a_webhook_of_the_contracts_shape_shows_in_its_card(manager_client, upstream, webhook):
    serve_data(upstream, "/webhooks", {"items": [webhook]})
    html = manager_client.get("/webhooks/sandbox/card", **HX).content.decode()
    assert "Couldn&#x27;t load" not in html
    assert escape("•" * 12 + webhook["secret"][-4:]) in html


@given(webhook=broken(WEBHOOKS, WEBHOOK_FIELDS))
@bounded(40)
def test_a_webhook_of_the_wrong_shape_is_couldnt_load_retry(manager_client, upstream, webhook):
    serve_data(upstream, "/webhooks", {"items": [webhook]})
    response = manager_client.get("/webhooks/sandbox/card", **HX)
    html = response.content.decode()
    assert response.status_code == 200
    assert COULDNT_LOAD_CARD in html and ">Retry</a>" in html
    reveal = manager_client.post("/webhooks/sandbox/reveal", **HX)
    assert reveal.status_code == 502 and "Revealing the secret failed" in reveal.content.decode()


# The logs section, and an opened row.


@given(page=PAGES)
@bounded(25)
def test_a_logs_page_of_the_contracts_shape_shows_its_rows(manager_client, upstream, page):
    serve_data(upstream, "/webhooks/sandbox/logs", page)
    html = manager_client.get("/logs?env=sandbox", **HX).content.decode()
    assert "Couldn&#x27;t load" not in html
    assert html.count('class="log-row"') == len(page["items"])


@given(page=broken_pages())
@bounded(40)
def test_a_logs_page_of_the_wrong_shape_is_couldnt_load_retry(manager_client, upstream, page):
    serve_data(upstream, "/webhooks/sandbox/logs", page)
    response = manager_client.get("/logs?env=sandbox", **HX)
    html = response.content.decode()
    assert response.status_code == 200
    assert COULDNT_LOAD_LOGS in html and 'id="logs-retry"' in html


@given(row=ROWS)
@bounded(25)
def test_an_opened_row_of_the_contracts_shape_shows_its_details(manager_client, upstream, row):
    serve_data(upstream, "/webhooks/sandbox/logs/7", row)
    html = manager_client.get("/webhooks/sandbox/logs/7?at=0", **HX).content.decode()
    assert "failed" not in html.replace("Loading the attempts", "")
    assert 'aria-label="Logged response"' in html


@given(row=broken(ROWS, ROW_FIELDS))
@bounded(40)
def test_an_opened_row_of_the_wrong_shape_says_its_details_failed(manager_client, upstream, row):
    serve_data(upstream, "/webhooks/sandbox/logs/7", row)
    response = manager_client.get("/webhooks/sandbox/logs/7?at=0", **HX)
    assert response.status_code == 200 and ROW_FAILED in response.content.decode()


# Anything at all, on every path: nothing answers 500. (A change the API failed is a 502, the
# portal's answer for "the management API failed": see views.reports_api_failure.)

STATUSES = st.sampled_from(["200 OK", "201 Created", "204 No Content", "302 Found", "400 Bad Request", "401 No"])
STATUSES |= st.sampled_from(["403 Forbidden", "404 Not Found", "409 Conflict", "429 Slow", "500 Oops", "502 Bad"])


@st.composite
def bodies(draw) -> bytes:
    kind = draw(
        st.sampled_from(["json", "envelope", "webhooks", "page", "row", "bytes", "html", "deep", "error", "stats"])
    )
    if kind == "json":
        return json.dumps(draw(JSON_VALUES)).encode()
    if kind == "envelope":
        return json.dumps(envelope(draw(JSON_VALUES))).encode()
    if kind == "webhooks":
        webhook = draw(WEBHOOKS | broken(WEBHOOKS, WEBHOOK_FIELDS))
        return json.dumps(envelope({"items": [webhook]})).encode()
    if kind == "page":
        return json.dumps(envelope(draw(PAGES | broken_pages()))).encode()
    if kind == "row":
        return json.dumps(envelope(draw(ROWS | broken(ROWS, ROW_FIELDS)))).encode()
    if kind == "bytes":
        return draw(st.binary(max_size=64))
    if kind == "html":
        return b"<!doctype html><html><body><h1>502 Bad Gateway</h1></body></html>"
    if kind == "deep":
        depth = draw(st.integers(30, 3000))
        return b'{"data": ' + b"[" * depth + b"]" * depth + b"}"
    if kind == "error":
        message = draw(nullable(TEXT) | NOT_TEXT)
        errors = draw(nullable(st.dictionaries(TEXT, st.lists(TEXT, max_size=2), max_size=2)) | NOT_TEXT)
        return json.dumps({"message": message, "reference_id": "1.1.400", "errors": errors}).encode()
    return json.dumps(
        envelope(draw(st.dictionaries(st.sampled_from(["buckets", "success_rate"]), JSON_VALUES)))
    ).encode()


@st.composite
def raw_answers(draw) -> bytes:
    status, body = draw(STATUSES), draw(bodies())
    headers = [draw(st.sampled_from([b"Content-Type: application/json", b"Content-Type: text/html", b"X-None: 1"]))]
    encoding = draw(st.sampled_from(["plain", "gzip", "bad gzip", "truncated"]))
    if encoding == "gzip":
        return upstream_answer(status, [*headers, b"Content-Encoding: gzip"], gzip.compress(body))
    if encoding == "bad gzip":
        return upstream_answer(status, [*headers, b"Content-Encoding: gzip"], body)
    if encoding == "truncated":
        return upstream_answer(status, headers, body[: len(body) // 2], length=len(body) + 1)
    return upstream_answer(status, headers, body)


DELIVERY = "0b7f6f4c-5f6a-4d4e-9a51-1f2d3c4b5a69"
READS = [
    "/webhooks/production/card",
    "/logs?env=sandbox&status=failure",
    "/webhooks/sandbox/logs/7?at=0",
    f"/webhooks/sandbox/deliveries/{DELIVERY}",
    "/webhooks/sandbox/health",
    "/webhooks/sandbox/logs/new?page=1&size=10&newest=5",
    "/webhooks/sandbox/recover?since=24h",
]
CHANGES = [
    ("/webhooks/sandbox/reveal", {}),
    ("/webhooks/sandbox/copy", {}),
    ("/webhooks/sandbox/test", {}),
    ("/webhooks/sandbox/generate", {"url": "https://a.example.com/"}),
    ("/webhooks/sandbox/regenerate", {}),
    ("/webhooks/sandbox/enable", {}),
    ("/webhooks/sandbox/roll", {"expires_in_hours": "24"}),
    ("/webhooks/sandbox/roll/complete", {}),
    ("/webhooks/sandbox/delete", {}),
    ("/webhooks/sandbox/recover", {"since": "24h"}),
]


@given(raw=raw_answers())
@bounded(40)
def test_no_answer_of_the_upstream_makes_any_part_fail(manager_client, upstream, raw):
    upstream.serve(answer(raw))
    # The tab as a browser loads it: the page, the parts it loads, every row opened.
    tab_html(manager_client, expanded=True)
    for url in READS:
        assert_answered(manager_client.get(url, **HX), url)
    for url, data in CHANGES:
        assert_answered(manager_client.post(url, data, **HX), url)
    # (Not read: a broken-off export fails the download, as it should, by raising.)
    assert_answered(manager_client.get("/webhooks/sandbox/logs/export?format=csv"), "export")


def assert_answered(response, url: str) -> None:
    """The view answered as it means to: not the 500 page of a view that failed."""
    assert response.status_code != 500, url
    if not response.streaming:
        assert "Something went wrong on our side" not in response.content.decode(), url
