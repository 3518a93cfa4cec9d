"""The logs' own views: a delivery's attempts, health, recover, export and the live check."""

import csv
import io
import json
import re
import threading
import uuid
from datetime import UTC, timedelta

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from audit.models import AuditEvent
from management_api.models import Delivery, Webhook, WebhookLog
from tests import factories
from tests.webhooks_app.conftest import HX


def log(**fields) -> WebhookLog:
    return factories.log_row(**fields)


def failed_delivery(created_at=None) -> Delivery:
    delivery = Delivery.objects.create(
        environment="sandbox", type="data_alert", event="data_alert.true", state="failed", attempts=2
    )
    if created_at:
        Delivery.objects.filter(pk=delivery.pk).update(created_at=created_at)
    return delivery


# A delivery's attempts.


def test_the_timeline_lists_every_attempt_and_the_final_state(viewer_client):
    delivery = failed_delivery()
    log(
        delivery_id=delivery.id,
        attempt=1,
        status="failure",
        code=503,
        error="the receiver answered 503",
        duration_ms=120,
    )
    log(delivery_id=delivery.id, attempt=2, status="failure", code=None, error="timed out", duration_ms=5000)
    response = viewer_client.get(f"/webhooks/sandbox/deliveries/{delivery.id}", **HX)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Given up after 2 attempts." in html
    assert html.count('<tr class="attempt">') == 2
    assert html.index("the receiver answered 503") < html.index("timed out")
    assert "120 ms" in html and "5000 ms" in html


def test_the_expanded_row_loads_its_timeline_when_opened(viewer_client):
    row = log()
    html = viewer_client.get(f"/webhooks/sandbox/logs/{row.pk}", **HX).content.decode()
    assert f'hx-get="/webhooks/sandbox/deliveries/{row.delivery_id}" hx-trigger="intersect once"' in html


def test_an_unknown_delivery_says_it_is_no_longer_kept(viewer_client):
    response = viewer_client.get(f"/webhooks/sandbox/deliveries/{uuid.uuid4()}", **HX)
    assert "no longer kept" in response.content.decode()


@pytest.mark.parametrize("path", ["/webhooks/staging/deliveries/" + "a" * 32, "/webhooks/sandbox/deliveries/x%2F..%2F"])
def test_a_bad_environment_or_id_is_404(viewer_client, path):
    assert viewer_client.get(path).status_code == 404


# Health.


def test_health_shows_counts_rates_durations_and_an_accessible_chart(viewer_client):
    log(status="success", duration_ms=10)
    log(status="success", duration_ms=20)
    log(status="failure", code=500, duration_ms=30, attempt=1)
    html = viewer_client.get("/webhooks/sandbox/health", **HX).content.decode()
    assert "Sandbox health" in html
    assert "66.7 %" in html
    assert "20 / 30 ms" in html
    assert "2 succeeded, 1 failed" in html  # the chart's <title>
    assert 'role="img"' in html and html.count('class="bar-ok"') == 24
    assert "<caption>Sandbox attempts per hour, last 24 hours (UTC)</caption>" in html
    assert "Recover failed deliveries" not in html  # a viewer


def test_health_is_computed_once_per_cache_period_not_on_every_tab_load(viewer_client, settings, monkeypatch):
    from webhooks_app.client import ManagementApi

    windows: list[str] = []
    stats = ManagementApi.stats

    def counted_stats(api: ManagementApi, environment: str, window: str = "24h") -> dict:
        windows.append(window)
        return stats(api, environment, window)

    monkeypatch.setattr(ManagementApi, "stats", counted_stats)
    log(status="success", duration_ms=10)
    assert "1 succeeded, 0 failed" in viewer_client.get("/webhooks/sandbox/health", **HX).content.decode()
    # Within HEALTH_PANEL_CACHE_SECONDS, and no delivery landed: the panel is not computed again.
    assert "1 succeeded, 0 failed" in viewer_client.get("/webhooks/sandbox/health", **HX).content.decode()
    assert windows == ["24h", "7d"]
    # The other environment is its own.
    assert "0 succeeded, 0 failed" in viewer_client.get("/webhooks/production/health", **HX).content.decode()
    log(status="failure", code=500, duration_ms=30)
    settings.HEALTH_PANEL_CACHE_SECONDS = 0
    cache.clear()
    assert "1 succeeded, 1 failed" in viewer_client.get("/webhooks/sandbox/health", **HX).content.decode()
    log(status="failure", code=500, duration_ms=30)
    assert "1 succeeded, 2 failed" in viewer_client.get("/webhooks/sandbox/health", **HX).content.decode()


def test_a_delivery_that_lands_is_in_the_next_panel_though_the_last_one_is_kept(viewer_client):
    first = log(status="success", duration_ms=10)
    viewer_client.get("/logs?env=sandbox", **HX)  # the table shows it
    assert "1 succeeded, 0 failed" in viewer_client.get("/webhooks/sandbox/health", **HX).content.decode()
    log(status="failure", code=500, duration_ms=30)  # lands within HEALTH_PANEL_CACHE_SECONDS
    # The live check finds it and refreshes the table; the panel it asks for next includes it.
    live = viewer_client.get(f"/webhooks/sandbox/logs/new?page=1&size=10&newest={first.pk}", **HX)
    assert live.status_code == 204 and "logs:refresh" in live["HX-Trigger"]
    assert "1 succeeded, 1 failed" in viewer_client.get("/webhooks/sandbox/health", **HX).content.decode()
    # A tab load that finds a newer row does not bring the panel kept before it.
    log(status="failure", code=500, duration_ms=30)
    tab = viewer_client.get("/?env=sandbox").content.decode()
    assert "1 succeeded, 1 failed" not in tab and "Sandbox health" not in tab
    assert "1 succeeded, 2 failed" in viewer_client.get("/webhooks/sandbox/health", **HX).content.decode()
    assert "1 succeeded, 2 failed" in viewer_client.get("/?env=sandbox").content.decode()


def test_the_panel_says_when_it_was_computed(viewer_client):
    html = viewer_client.get("/webhooks/sandbox/health", **HX).content.decode()
    assert re.search(r'as of <time datetime="[^"]+" data-local data-format="time">\d\d:\d\d:\d\d</time>', html)


def test_each_hour_of_the_chart_links_to_the_table_filtered_to_that_hour(viewer_client):
    log(status="failure", code=500)
    html = viewer_client.get("/webhooks/sandbox/health", **HX).content.decode()
    links = re.findall(r'<a class="chart-hour" href="([^"]+)"[^>]*data-tip="([^"]+)"', html)
    assert len(links) == 24
    href, tip = links[-1]
    hour = timezone.now().astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    until = hour + timedelta(hours=1)
    assert tip == f"{hour:%H:%M}–{until:%H:%M} UTC: 0 succeeded, 1 failed"
    query = href.replace("&amp;", "&").split("?", 1)[1]
    assert query == f"env=sandbox&range=custom&since={hour:%Y-%m-%dT%H}%3A00&until={until:%Y-%m-%dT%H}%3A00"
    # The link is a filter like any other: the table it opens shows that hour's row.
    table = viewer_client.get(href.replace("&amp;", "&"), **HX).content.decode()
    assert table.count('class="log-row"') == 1 and f"From {hour:%Y-%m-%d %H:%M} UTC" in table


def test_a_kept_panel_comes_in_the_tab_and_an_unkept_one_loads_by_itself(viewer_client, settings):
    log(status="success", duration_ms=10)
    slot = re.compile(r'<div class="health-slot" id="health-sandbox"[^>]*>')
    (first,) = slot.findall(viewer_client.get("/").content.decode())
    assert 'hx-trigger="load"' in first
    viewer_client.get("/webhooks/sandbox/health", **HX)
    html = viewer_client.get("/").content.decode()
    (kept,) = slot.findall(html)
    assert 'hx-trigger="load"' not in kept and "hx-get" not in kept
    assert "1 succeeded, 0 failed" in html.split(kept, 1)[1].split("</section>", 1)[0]
    settings.HEALTH_PANEL_CACHE_SECONDS = 0
    cache.clear()
    viewer_client.get("/webhooks/sandbox/health", **HX)
    (unkept,) = slot.findall(viewer_client.get("/").content.decode())
    assert 'hx-trigger="load"' in unkept


def test_health_offers_recover_to_managers(manager_client):
    assert "Recover failed deliveries…" in manager_client.get("/webhooks/sandbox/health", **HX).content.decode()


@pytest.mark.parametrize("shown_by", ["/webhooks/sandbox/health", "/?env=sandbox"])
def test_a_panel_kept_for_a_viewer_is_not_shown_to_a_manager_nor_the_other_way(client, viewer, manager, shown_by):
    for first, then in ((viewer, manager), (manager, viewer)):
        cache.clear()
        client.force_login(first)
        client.get("/webhooks/sandbox/health", **HX)
        client.force_login(then)
        client.get("/webhooks/sandbox/health", **HX)  # kept for this kind of reader too
        html = client.get(shown_by, **(HX if "health" in shown_by else {})).content.decode()
        assert "Sandbox health" in html
        assert ("Recover failed deliveries…" in html) is (then is manager), (first, then)
        assert first.username not in html and "csrfmiddlewaretoken" not in html.split("Sandbox health")[1][:3000]


def test_a_kept_panel_stays_with_its_environment(viewer_client):
    log(status="success")
    viewer_client.get("/webhooks/sandbox/health", **HX)
    html = viewer_client.get("/?env=production").content.decode()
    assert 'id="health-production"' in html and "Sandbox health" not in html and "health-title-sandbox" not in html


@pytest.mark.django_db(transaction=True)
def test_tab_loads_that_find_no_panel_at_once_compute_it_once(monkeypatch):
    from webhooks_app import health_panel
    from webhooks_app.client import ManagementApi

    calls, inside, most_inside = [], [0], [0]
    lock, never = threading.Lock(), threading.Event()
    original = ManagementApi.stats

    def stats(self, environment, window):
        with lock:
            calls.append(window)
            inside[0] += 1
            most_inside[0] = max(most_inside[0], inside[0])
        try:
            # Each computation stays open a moment, so that without the single flight the other
            # loads, released together, would be inside it at the same time. Passing needs no timing.
            never.wait(timeout=0.5)
            return original(self, environment, window)
        finally:
            with lock:
                inside[0] -= 1

    monkeypatch.setattr(ManagementApi, "stats", stats)
    start = threading.Barrier(6)
    panels = []

    def load():
        start.wait()
        panels.append(health_panel.panel("sandbox", "Sandbox", False))

    threads = [threading.Thread(target=load) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(panels) == 6 and len(set(panels)) == 1
    assert calls == ["24h", "7d"] and most_inside[0] == 1


def test_health_needs_login(client, db):
    assert client.get("/webhooks/sandbox/health").status_code == 302


# Recover.


@pytest.fixture
def webhook(db):
    return Webhook.objects.create(environment="sandbox", url="https://hooks.example.com/", secret="s" * 43)


def test_recover_asks_with_the_count_first(manager_client, webhook):
    failed_delivery()
    failed_delivery()
    failed_delivery(created_at=timezone.now() - timedelta(days=3))
    html = manager_client.get("/webhooks/sandbox/recover", **HX).content.decode()
    assert "Resend 2 failed Sandbox deliveries since" in html
    html = manager_client.get("/webhooks/sandbox/recover?since=7d", **HX).content.decode()
    assert "Resend 3 failed Sandbox deliveries since" in html
    assert not Delivery.objects.filter(recovery_of__isnull=False).exists()


def test_recover_queues_them_records_it_and_refreshes_the_logs(manager_client, webhook):
    failed_delivery()
    response = manager_client.post("/webhooks/sandbox/recover", {"since": "1h"}, **HX)
    assert response.status_code == 200
    assert "1 failed Sandbox delivery queued" in response.content.decode()
    assert "logs:refresh" in response["HX-Trigger"]
    assert Delivery.objects.filter(recovery_of__isnull=False).count() == 1
    event = AuditEvent.objects.get(action="deliveries_recovered")
    assert (event.actor, event.environment) == ("maria", "sandbox")


def test_recover_with_a_bad_since_is_400_and_queues_nothing(manager_client, webhook):
    failed_delivery()
    response = manager_client.post("/webhooks/sandbox/recover", {"since": "custom", "custom": "soon"}, **HX)
    assert response.status_code == 400
    assert "Enter a valid date/time" in response.content.decode()
    future = (timezone.now() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    response = manager_client.post("/webhooks/sandbox/recover", {"since": "custom", "custom": future}, **HX)
    assert response.status_code == 400 and "since" in response.content.decode()
    assert not Delivery.objects.filter(recovery_of__isnull=False).exists()
    assert not AuditEvent.objects.filter(action="deliveries_recovered").exists()


def test_recover_is_for_managers_only(viewer_client, webhook):
    failed_delivery()
    assert viewer_client.get("/webhooks/sandbox/recover", **HX).status_code == 403
    assert viewer_client.post("/webhooks/sandbox/recover", {"since": "1h"}, **HX).status_code == 403
    assert not Delivery.objects.filter(recovery_of__isnull=False).exists()


def test_recover_needs_the_csrf_token(manager, webhook):
    failed_delivery()
    client = Client(enforce_csrf_checks=True)
    client.force_login(manager)
    assert client.post("/webhooks/sandbox/recover", {"since": "1h"}).status_code == 403
    assert not Delivery.objects.filter(recovery_of__isnull=False).exists()


def test_recover_without_a_webhook_says_why(manager_client, db):
    html = manager_client.get("/webhooks/sandbox/recover", **HX).content.decode()
    assert 'role="alert"' in html and "Resend" in html and "disabled" in html


# Export.


def test_a_viewer_exports_the_filtered_rows_as_csv(viewer_client):
    log(project_id="p1", status="failure", code=500)
    log(project_id="p2", status="success")
    response = viewer_client.get("/webhooks/sandbox/logs/export?format=csv&status=failure")
    assert response.status_code == 200 and response.streaming
    assert response["Content-Disposition"].startswith('attachment; filename="webhook-logs-sandbox-')
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [row["project_id"] for row in rows] == ["p1"]
    event = AuditEvent.objects.get(action="logs_exported")
    assert (event.actor, event.detail) == ("victor", "CSV; status failure")


def test_json_lines_export(viewer_client):
    log(project_id="p1")
    response = viewer_client.get("/webhooks/sandbox/logs/export?format=jsonl")
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert [json.loads(line)["project_id"] for line in lines] == ["p1"]


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20"])
def test_the_downloaded_csv_neutralises_every_formula_start(viewer_client, start):
    log(project_id=f"{start}2+3", error=f'{start}HYPERLINK("https://evil.example")', status="failure", code=500)
    response = viewer_client.get("/webhooks/sandbox/logs/export?format=csv")
    row = next(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert (row["project_id"], row["error"]) == (f"'{start}2+3", f'\'{start}HYPERLINK("https://evil.example")')


@pytest.mark.parametrize("query", ["format=xlsx", "format=csv&status=ok", "format=csv&delivery_id=abc"])
def test_a_bad_export_is_400_and_records_nothing(viewer_client, query):
    response = viewer_client.get(f"/webhooks/sandbox/logs/export?{query}")
    assert response.status_code == 400
    assert not AuditEvent.objects.filter(action="logs_exported").exists()


def test_the_export_links_carry_the_filters(viewer_client):
    html = viewer_client.get("/logs?env=sandbox&status=failure&project_id=p1").content.decode()
    assert 'href="/webhooks/sandbox/logs/export?format=csv&amp;status=failure&amp;project_id=p1"' in html
    assert 'href="/webhooks/sandbox/logs/export?format=jsonl&amp;status=failure&amp;project_id=p1"' in html


# Live: the check for newer deliveries.


def test_on_page_one_new_rows_refresh_the_table(viewer_client):
    first = log()
    response = viewer_client.get(f"/webhooks/sandbox/logs/new?page=1&newest={first.id}", **HX)
    assert response.status_code == 200 and "HX-Trigger" not in response
    log()
    response = viewer_client.get(f"/webhooks/sandbox/logs/new?page=1&newest={first.id}", **HX)
    assert response.status_code == 204 and "logs:refresh" in response["HX-Trigger"]


def test_on_other_pages_new_rows_are_offered_as_a_link_to_page_one(viewer_client):
    first = log(status="failure", code=500)
    log(status="failure", code=500)
    log(status="failure", code=500)
    log(status="success")  # not matched by the filter
    html = viewer_client.get(f"/webhooks/sandbox/logs/new?page=2&newest={first.id}&status=failure", **HX).content
    html = html.decode()
    assert "2 new Sandbox deliveries." in html
    assert 'href="/logs?env=sandbox&amp;size=10&amp;status=failure"' in html


def test_the_live_check_rejects_a_bad_newest(viewer_client):
    assert viewer_client.get("/webhooks/sandbox/logs/new?newest=abc").status_code == 400


def test_the_logs_carry_the_live_check_with_the_newest_row(viewer_client):
    log()
    newest = log()
    html = viewer_client.get("/logs?status=success").content.decode()
    assert f"/webhooks/sandbox/logs/new?page=1&amp;size=10&amp;newest={newest.id}&amp;status=success" in html
    assert 'hx-trigger="every 5s"' in html


def test_past_page_one_the_check_first_learns_the_newest_row_there_is(viewer_client):
    for _ in range(11):
        newest = log()
    html = viewer_client.get("/logs?page=2").content.decode()
    assert 'hx-get="/webhooks/sandbox/logs/new?page=2&amp;size=10" hx-trigger="load"' in html
    html = viewer_client.get("/webhooks/sandbox/logs/new?page=2&size=10", **HX).content.decode()
    assert (
        f'hx-get="/webhooks/sandbox/logs/new?page=2&amp;size=10&amp;newest={newest.id}" hx-trigger="every 5s"' in html
    )
    assert "new Sandbox" not in html
