"""The logs table's filters and search, through the embedded API and against a plain AutoQL."""

import re
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from management_api.models import WebhookLog
from tests.webhooks_app.conftest import HX
from webhooks_app.client import ManagementApi

API = "/autoql/management/api/v1/notifications"


def log(**fields) -> WebhookLog:
    values = {
        "environment": "sandbox",
        "type": "data_alert",
        "event": "data_alert.true",
        "status": "success",
        "code": 200,
        "url": "https://hooks.example.com/",
        **fields,
    }
    return WebhookLog.objects.create(**values)


def shown_projects(html: str) -> list[str]:
    return re.findall(r'<td data-label="Project ID">([^<]*)</td>', html)


def test_status_and_project_filter_the_rows_and_show_as_chips(viewer_client):
    log(project_id="p1", status="failure", code=500)
    log(project_id="p1", status="success")
    log(project_id="p2", status="failure", code=500)
    response = viewer_client.get("/logs?env=sandbox&status=failure&project_id=p1")
    html = response.content.decode()
    assert response.status_code == 200
    assert shown_projects(html) == ["p1"]
    assert "Status: Failure" in html and "Project: p1" in html
    # Each chip links to the same page without its own filter.
    assert 'href="/logs?env=sandbox&amp;size=10&amp;project_id=p1" hx-get' in html
    assert 'href="/logs?env=sandbox&amp;size=10&amp;status=failure" hx-get' in html


def test_an_empty_result_names_the_filters_that_hide_everything(viewer_client):
    log(project_id="p2", status="success")
    html = viewer_client.get("/logs?env=sandbox&status=failure&project_id=p1").content.decode()
    assert "No Sandbox deliveries match status Failure and project p1." in html


def test_the_pager_and_page_size_keep_the_filters(viewer_client):
    for i in range(12):
        log(project_id=f"x{i}", status="failure", code=500)
    log(project_id="ok", status="success")
    html = viewer_client.get("/logs?env=sandbox&status=failure", **HX, HTTP_HX_TARGET="logs").content.decode()
    assert "Page 1 of 2" in html and "12 rows" in html
    assert "?env=sandbox&amp;size=10&amp;page=2&amp;status=failure" in html
    assert '<input type="hidden" name="status" value="failure">' in html
    page_two = viewer_client.get("/logs?env=sandbox&status=failure&page=2").content.decode()
    assert shown_projects(page_two) == ["x1", "x0"]


def test_a_delivery_id_or_its_first_8_characters_finds_its_rows(viewer_client):
    wanted = uuid.UUID("1234abcd-0000-4000-8000-000000000001")
    log(project_id="wanted", delivery_id=wanted)
    log(project_id="other", delivery_id=uuid.UUID("99999999-0000-4000-8000-000000000001"))
    assert shown_projects(viewer_client.get("/logs?delivery_id=1234ABCD").content.decode()) == ["wanted"]
    assert shown_projects(viewer_client.get(f"/logs?delivery_id={wanted}").content.decode()) == ["wanted"]


def test_a_time_preset_hides_older_rows(viewer_client):
    old = log(project_id="old")
    WebhookLog.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(hours=3))
    log(project_id="new")
    html = viewer_client.get("/logs?range=1h").content.decode()
    assert shown_projects(html) == ["new"]
    assert "Time: last hour" in html
    assert shown_projects(viewer_client.get("/logs?range=24h").content.decode()) == ["new", "old"]


def test_a_custom_range_takes_from_and_to_in_utc(viewer_client):
    early = log(project_id="early")
    WebhookLog.objects.filter(pk=early.pk).update(created_at=timezone.now() - timedelta(days=3))
    log(project_id="late")
    since = (timezone.now() - timedelta(days=4)).strftime("%Y-%m-%dT%H:%M")
    until = (timezone.now() - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    html = viewer_client.get(f"/logs?range=custom&since={since}&until={until}").content.decode()
    assert shown_projects(html) == ["early"]


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("status=ok", "status", "Select a valid choice"),
        ("delivery_id=1234abc", "delivery_id", "at least its first 8 characters"),
        ("delivery_id=not-hex-at-all", "delivery_id", "at least its first 8 characters"),
        ("since=yesterday", "since", "Enter a valid date/time"),
        ("since=2026-11-28&until=2026-11-27", "until", "The end must be after the start."),
        ("range=24h&since=2026-11-28", "range", "Choose Custom to use From and To"),
        ("range=custom", "since", "Enter a start, an end or both"),
        ("event=caf%C3%A9", "event", "printable ASCII"),
    ],
)
def test_a_bad_value_is_a_400_beside_its_field_and_calls_no_api(viewer_client, monkeypatch, query, field, message):
    log(project_id="p1")
    calls = []
    real_call = ManagementApi._call

    def counting(self, method, path, *args, **kwargs):
        calls.append(path)
        return real_call(self, method, path, *args, **kwargs)

    monkeypatch.setattr(ManagementApi, "_call", counting)
    response = viewer_client.get(f"/logs?{query}", **HX, HTTP_HX_TARGET="logs")
    html = response.content.decode()
    assert response.status_code == 400
    error = re.search(rf'<span class="field-error" id="filter-{field}-error">([^<]*)</span>', html)
    assert error and message in error.group(1).replace("&#x27;", "'")
    assert [path for path in calls if path.endswith("/logs")] == []
    assert shown_projects(html) == []


def test_clear_links_to_the_environment_and_size_only(viewer_client):
    html = viewer_client.get("/logs?env=production&size=25&status=failure&event=x").content.decode()
    assert 'href="/logs?env=production&amp;size=25" hx-get="/logs?env=production&amp;size=25"' in html


def test_login_is_required(client, db):
    response = client.get("/logs?status=failure")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# Against a plain AutoQL, whose logs answer advertises no filters.


@pytest.fixture
def plain_autoql(httpserver, settings):
    settings.AUTOQL_DOMAIN = httpserver.url_for("").rstrip("/")
    settings.AUTOQL_SANDBOX_API_KEY = "sandbox-key"
    settings.AUTOQL_PRODUCTION_API_KEY = "production-key"
    settings.AUTOQL_TOKEN = "the-token"
    row = {
        "id": "7",
        "environment": "sandbox",
        "project_id": "upstream-row",
        "type": "test",
        "event": "test",
        "status": "success",
        "code": 200,
        "created_at": "2026-11-28T14:00:03Z",
        "url": "https://hooks.example.com/",
        "duration_ms": 41,
        "error": None,
        "response": {"message": "ok"},
    }
    page = {"items": [row], "pagination": {"offset": 0, "limit": 10, "total_items": 1}}
    httpserver.expect_request(f"{API}/webhooks/sandbox/logs").respond_with_json(
        {"data": page, "message": "Success", "reference_id": "1.1.200"}
    )
    httpserver.expect_request(f"{API}/webhooks").respond_with_json(
        {"data": {"items": []}, "message": "Success", "reference_id": "1.1.200"}
    )
    return httpserver


def test_a_plain_autoql_gets_no_filters_and_the_page_says_so(viewer_client, plain_autoql):
    html = viewer_client.get("/logs?env=sandbox&status=failure&project_id=p1").content.decode()
    assert "This management API does not support filtering; showing all deliveries." in html
    assert 'class="log-filters"' not in html and "Export CSV" not in html
    assert shown_projects(html) == ["upstream-row"]
    sent = [request.args for request, _ in plain_autoql.log if request.path.endswith("/logs")]
    assert sent and all("status" not in args and "project_id" not in args for args in sent)


def test_a_plain_autoql_without_filters_asked_shows_the_same_note(viewer_client, plain_autoql):
    html = viewer_client.get("/logs?env=sandbox").content.decode()
    assert "This management API does not support filtering" in html
    assert shown_projects(html) == ["upstream-row"]
