"""GET /webhooks/{environment}/logs/export: every matching row, newest first, streamed as CSV or JSON Lines."""

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from management_api import export
from management_api.models import WebhookLog
from portal.signatures import HIDDEN_SIGNATURE

SIGNATURE = "c2lnbmF0dXJl"
BOUNDED = hypothesis_settings(
    max_examples=60, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck)
)


def write_rows(count: int, environment: str = "sandbox", **fields) -> None:
    """`count` rows, oldest first, appended the one way the product appends them."""
    start = timezone.now() - timedelta(hours=1)
    with transaction.atomic():
        WebhookLog.objects.append(
            [
                WebhookLog(
                    environment=environment,
                    type="data_alert",
                    event="data_alert.true",
                    status="failure" if i % 4 == 0 else "success",
                    code=500 if i % 4 == 0 else 200,
                    url="https://hooks.example.com/",
                    project_id=f"p{i}",
                    duration_ms=i,
                    request_headers={"AutoQL-Signature": SIGNATURE, "AutoQL-Timestamp": "1"},
                    request_body='{"event": "data_alert.true"}',
                    response={"n": i},
                    created_at=start + timedelta(milliseconds=i),
                    **fields,
                )
                for i in range(count)
            ]
        )


def download(api, query: str = "", environment: str = "sandbox"):
    return api.call("GET", f"/webhooks/{environment}/logs/export", query=query, environment=environment)


def test_a_csv_of_thousands_of_rows_is_streamed_whole_newest_first(api):
    write_rows(3000)
    write_rows(5, environment="production")
    response = download(api, "&format=csv")
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="webhook-logs-sandbox-')
    assert response["Content-Disposition"].endswith('.csv"')
    chunks = list(response.streaming_content)
    assert len(chunks) > 1  # handed out as it is read, not built whole first
    rows = list(csv.DictReader(io.StringIO(b"".join(chunks).decode())))
    assert len(rows) == 3000
    assert [row["project_id"] for row in rows[:3]] == ["p2999", "p2998", "p2997"]
    assert rows[-1]["project_id"] == "p0"
    assert {row["environment"] for row in rows} == {"sandbox"}
    assert json.loads(rows[0]["response"]) == {"n": 2999}
    assert list(rows[0]) == export.COLUMNS


def test_jsonl_with_the_same_filters_as_the_logs(api):
    write_rows(40)
    response = download(api, "&format=jsonl&status=failure&created_after=2000-01-01")
    assert response["Content-Type"] == "application/x-ndjson; charset=utf-8"
    assert response["Content-Disposition"].endswith('.jsonl"')
    lines = b"".join(response.streaming_content).decode().splitlines()
    rows = [json.loads(line) for line in lines]
    assert [row["project_id"] for row in rows] == [f"p{i}" for i in range(36, -1, -4)]
    assert all(row["status"] == "failure" and row["code"] == 500 for row in rows)


def test_a_fresh_signature_is_left_out_and_an_old_one_kept(api):
    write_rows(1)
    WebhookLog.objects.update(created_at=timezone.now() - timedelta(minutes=10))
    write_rows(1)
    WebhookLog.objects.filter(seq=2).update(created_at=timezone.now() - timedelta(minutes=1))
    fresh, old = (json.loads(line) for line in b"".join(download(api, "&format=jsonl").streaming_content).splitlines())
    assert fresh["request_headers"] == {"AutoQL-Signature": HIDDEN_SIGNATURE, "AutoQL-Timestamp": "1"}
    assert old["request_headers"]["AutoQL-Signature"] == SIGNATURE


def test_no_secret_is_ever_exported(api):
    secret = api.create()["secret"]
    write_rows(3)
    for file_format in ("csv", "jsonl"):
        assert secret.encode() not in b"".join(download(api, f"&format={file_format}").streaming_content)


ECHOED_SIGNATURE = "k3/ZsS+Aa1b2c3d4e5f6g7h8i9j0kLmNoPqRsTuVwXy="


@pytest.mark.parametrize("file_format", ["csv", "jsonl"])
def test_a_fresh_signature_echoed_by_the_receiver_is_hidden_too(api, file_format):
    """Request-inspection services answer with the request itself: its signature must not come
    back through the answer while a receiver would still accept it."""
    quoted = ECHOED_SIGNATURE.replace("+", "%2B").replace("/", "%2F").replace("=", "%3D")
    write_rows(
        1,
        response_headers={"X-Echo": ECHOED_SIGNATURE},
        error=f"redirects are not followed (302 to https://inspect.example/{ECHOED_SIGNATURE})",
    )
    WebhookLog.objects.update(
        request_headers={"AutoQL-Signature": ECHOED_SIGNATURE, "AutoQL-Timestamp": "1"},
        response={"headers": {"AutoQL-Signature": ECHOED_SIGNATURE}, "url": f"/hook?sig={quoted}"},
        created_at=timezone.now() - timedelta(minutes=1),
    )
    exported = b"".join(download(api, f"&format={file_format}").streaming_content).decode()
    assert ECHOED_SIGNATURE not in exported and quoted not in exported
    assert exported.count(HIDDEN_SIGNATURE) == 5

    WebhookLog.objects.update(created_at=timezone.now() - timedelta(minutes=10))
    assert ECHOED_SIGNATURE in b"".join(download(api, f"&format={file_format}").streaming_content).decode()


def test_cells_a_spreadsheet_would_run_are_quoted(api):
    write_rows(1, error='=HYPERLINK("https://evil.example")')
    row = next(csv.DictReader(io.StringIO(b"".join(download(api).streaming_content).decode())))
    assert row["error"] == '\'=HYPERLINK("https://evil.example")'


# OWASP's formula starts, and the full-width forms some spreadsheets read as the same.
FORMULA_STARTS = ["=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20"]


@pytest.mark.parametrize("start", FORMULA_STARTS)
def test_every_formula_start_is_neutralised(api, start):
    write_rows(1, error=f"{start}cmd|' /C calc'!A0")
    WebhookLog.objects.update(project_id=f"{start}1+1")
    row = next(csv.DictReader(io.StringIO(b"".join(download(api).streaming_content).decode())))
    assert row["error"] == f"'{start}cmd|' /C calc'!A0"
    assert row["project_id"] == f"'{start}1+1"


def test_plain_cells_are_left_alone(api):
    write_rows(1, error="the receiver answered 500 =oops")
    row = next(csv.DictReader(io.StringIO(b"".join(download(api).streaming_content).decode())))
    assert row["error"] == "the receiver answered 500 =oops"


def test_an_empty_log_is_a_header_line(api):
    body = b"".join(download(api).streaming_content).decode()
    assert body.splitlines() == [",".join(export.COLUMNS)]


@pytest.mark.parametrize(
    "query,field",
    [
        ("&format=xlsx", "format"),
        ("&format=CSV", "format"),
        ("&status=ok", "status"),
        ("&created_before=x", "created_before"),
    ],
)
def test_bad_parameters_are_400_json(api, query, field):
    response = download(api, query)
    assert response.status_code == 400
    assert not response.streaming
    assert field in response.json()["errors"]


def test_it_needs_the_key_and_token(api):
    response = api.call("GET", "/webhooks/sandbox/logs/export", token="")
    assert response.status_code == 401


# PostgreSQL writes the CSV of rows older than the signature window itself (COPY): cell for cell
# what Python writes, whatever the rows hold.
copy_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY is PostgreSQL's")
# Text as a database keeps it (no NUL), with what a CSV must quote or a spreadsheet would run.
texts = st.text(
    alphabet=st.one_of(
        st.sampled_from([*FORMULA_STARTS, ",", '"', "\n", "\r", " ", "'", "{", "~", "\\"]),
        st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"),
    ),
    max_size=12,
)
# JSON as receivers answer; numbers are whole (see test_numbers_are_written_as_received).
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(min_value=-(10**20), max_value=10**20), texts),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=6,
)


def copied_and_python(now) -> tuple[str, str]:
    old = WebhookLog.objects.filter(environment="sandbox", created_at__lt=now - timedelta(minutes=5))
    copied = b"".join(export.copied_csv(old, now)).decode()
    python = "".join(export.csv_chunks(export.export_rows(old, now), header=False))
    return copied, python


@copy_only
@BOUNDED
@given(
    text=st.one_of(st.none(), texts),
    body=texts,
    response=json_values,
    response_headers=json_values.filter(lambda value: value is not None),  # NOT NULL columns
    request_headers=json_values.filter(lambda value: value is not None),
    code=st.one_of(st.none(), st.integers(min_value=0, max_value=32767)),
    next_attempt_at=st.one_of(
        st.none(), st.datetimes(min_value=datetime(1000, 1, 1), max_value=datetime(9999, 1, 1), timezones=st.just(UTC))
    ),
)
def test_copy_writes_any_row_as_python_does(
    db, text, body, response, response_headers, request_headers, code, next_attempt_at
):
    WebhookLog.objects.all().delete()
    write_rows(2)
    WebhookLog.objects.update(
        error=text, project_id=text, request_body=body, code=code, response_headers=response_headers
    )
    WebhookLog.objects.filter(seq=1).update(response=response, request_headers=request_headers)
    copied, python = copied_and_python(timezone.now())
    assert copied == python


@copy_only
def test_numbers_are_written_as_received(db):
    write_rows(1)
    WebhookLog.objects.update(response={"ratio": 1.5, "big": 1e21, "small": 1e-07})
    copied, python = copied_and_python(timezone.now())
    # As PostgreSQL keeps them (exactly, in plain digits), where Python reads a fraction as a float.
    assert '""small"": 0.0000001' in copied and '""small"": 1e-07' in python
    assert copied.replace("0.0000001", "1e-07") == python


@copy_only
@pytest.mark.parametrize(
    "timestamps",
    [
        {"AutoQL-Timestamp": "{now}"},
        {"autoql-timestamp": "{now}"},
        {"AUTOQL-TIMESTAMP": "{now}", "AutoQL-Timestamp": "1"},
    ],
    ids=["as sent", "lower case", "two spellings"],
)
def test_a_row_signed_after_its_own_time_is_hidden_in_its_place(api, timestamps):
    """A row's AutoQL-Timestamp later than its time (no sender here writes one), in any spelling,
    keeps its signature hidden as long as the timestamp says; COPY leaves that row to Python, in
    its place."""
    write_rows(3)
    now = str(int(timezone.now().timestamp() * 1000))
    headers = {name: value.replace("{now}", now) for name, value in timestamps.items()}
    WebhookLog.objects.filter(project_id="p1").update(
        request_headers={"AutoQL-Signature": SIGNATURE, **headers}, response={"echo": SIGNATURE}
    )
    rows = list(csv.DictReader(io.StringIO(b"".join(download(api).streaming_content).decode())))
    assert [row["project_id"] for row in rows] == ["p2", "p1", "p0"]
    assert json.loads(rows[1]["request_headers"]) == {"AutoQL-Signature": HIDDEN_SIGNATURE, **headers}
    assert json.loads(rows[1]["response"]) == {"echo": HIDDEN_SIGNATURE}
    assert json.loads(rows[0]["request_headers"])["AutoQL-Signature"] == SIGNATURE


def test_fresh_and_old_rows_are_one_file_newest_first(api):
    write_rows(3)
    WebhookLog.objects.filter(project_id="p2").update(created_at=timezone.now() - timedelta(minutes=1))
    body = b"".join(download(api).streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(body)))
    assert [row["project_id"] for row in rows] == ["p2", "p1", "p0"]
    assert json.loads(rows[0]["request_headers"])["AutoQL-Signature"] == HIDDEN_SIGNATURE
    assert json.loads(rows[1]["request_headers"])["AutoQL-Signature"] == SIGNATURE
    # Every line ends alike, whichever part wrote it.
    assert "\r" not in body and body.count("\n") == 4


def test_a_csv_with_every_filter_has_the_rows_the_logs_show(api):
    write_rows(40)
    delivery_id = WebhookLog.objects.get(project_id="p8").delivery_id
    WebhookLog.objects.filter(project_id__in=["p4", "p12"]).update(delivery_id=delivery_id)
    query = f"&status=failure&delivery_id={delivery_id.hex[:8]}&created_after=2000-01-01&created_before=2999-01-01"
    rows = list(csv.DictReader(io.StringIO(b"".join(download(api, query).streaming_content).decode())))
    assert [row["project_id"] for row in rows] == ["p12", "p8", "p4"]
    assert {row["delivery_id"] for row in rows} == {str(delivery_id)}


def test_an_export_whose_filters_match_nothing_by_construction_is_a_header_line(api):
    write_rows(2)
    logs = WebhookLog.objects.filter(environment="sandbox", pk__in=[])
    body = b"".join(export.export_chunks(logs, "csv")).decode()
    assert body.splitlines() == [",".join(export.COLUMNS)]
    everything = WebhookLog.objects.filter(pk__in=WebhookLog.objects.values("pk")).exclude(pk__in=[])
    assert len(b"".join(export.export_chunks(everything, "csv")).decode().splitlines()) == 3
