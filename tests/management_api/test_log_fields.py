"""GET .../logs?fields=...: only the asked-for fields of each row, written as the whole rows write them."""

import pytest

from management_api.schemas import LOG_FIELDS
from tests.management_api.test_log_filters import log
from tests.management_api.test_logs import page, write_logs

TABLE = "id,project_id,type,event,status,code,created_at"


def test_it_answers_only_the_fields_asked_for_in_that_order(api):
    write_logs(3)
    data = page(api, f"&fields={TABLE}").json()["data"]
    assert [list(row) for row in data["items"]] == [TABLE.split(",")] * 3
    assert data["pagination"]["total_items"] == 3


@pytest.mark.parametrize("filtered", ["", "&status=failure"])
def test_every_field_is_written_as_the_whole_row_writes_it(api, filtered):
    write_logs(2)
    log(
        "with-a-retry",
        status="failure",
        code=None,
        next_attempt_at="2026-11-29T10:00:00Z",
        error="Connection refused",
        request_headers={"AutoQL-Signature": "sha256=…", "Content-Type": "application/json"},
        response_headers={"Server": "x"},
        response={"nested": [1, None, "ü"]},
        request_body='{"event": "data_alert.true"}',
    )
    whole = page(api, filtered).json()["data"]["items"]
    sparse = page(api, filtered + "&fields=" + ",".join(LOG_FIELDS)).json()["data"]["items"]
    assert sparse == whole
    failed = [row for row in sparse if row["status"] == "failure"]
    assert failed and failed[0]["next_attempt_at"] and failed[0]["code"] is None and failed[0]["error"]
    assert failed[0]["request_headers"]["Content-Type"] == "application/json" and failed[0]["response"]["nested"]


def test_filtered_pages_take_fields_too(api):
    log("a", status="failure")
    log("b", status="success")
    data = page(api, "&status=failure&fields=project_id,status").json()["data"]
    assert data["items"] == [{"project_id": "a", "status": "failure"}]
    assert data["pagination"]["total_items"] == 1


def test_an_empty_fields_is_every_field_and_repeats_count_once(api):
    write_logs(1)
    assert page(api, "&fields=").json()["data"]["items"] == page(api).json()["data"]["items"]
    assert page(api, "&fields=status,%20status,").json()["data"]["items"] == [{"status": "success"}]


@pytest.mark.parametrize("fields", ["seq", "secret", "id,nope", "x" * 500, "__class__"])
def test_an_unknown_field_is_refused_and_the_answer_lists_the_known_ones(api, fields):
    write_logs(1)
    response = page(api, f"&fields={fields}")
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["errors"] == {"fields": [body["message"]]}
    assert body["message"].startswith("fields: no log field is called ") and "project_id, type" in body["message"]
    assert len(body["message"]) < 400
