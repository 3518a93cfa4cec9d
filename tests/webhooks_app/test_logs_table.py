"""The logs table's order and pager (webhooks_app/logs_table.py): rows by their time, newest first,
and every matching row reachable however many match (issue 19, items 2 and 8)."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from management_api.log_search import NEWEST_FIRST
from management_api.models import Webhook, WebhookLog
from tests import factories
from tests.receiver import VerifyingReceiver
from tests.webhooks_app.conftest import HX

MATCHING = 50_000


def row_ids(html: str) -> list[str]:
    return re.findall(r'aria-controls="log-(\d+)"', html)


def link(html: str, name: str) -> str | None:
    """The pager button's query, or None when it is disabled."""
    found = re.search(rf'<a class="btn btn-small" href="/logs(\?[^"]+)"[^>]*>{name}</a>', html)
    return found.group(1).replace("&amp;", "&") if found else None


def failures_in_order() -> list[str]:
    return [
        str(pk)
        for pk in WebhookLog.objects.filter(status="failure").order_by(*NEWEST_FIRST).values_list("pk", flat=True)
    ]


@pytest.fixture
def fifty_thousand_failures(db):
    # More matches than the count goes to, and a few rows the filter leaves out.
    factories.history(MATCHING, until=timezone.now() - timedelta(hours=1), status="failure")
    factories.history(5, until=timezone.now(), status="success")
    return failures_in_order()


def test_every_one_of_50000_matching_rows_is_reachable_under_a_capped_count(manager_client, fifty_thousand_failures):
    ids = fifty_thousand_failures
    get = lambda query: manager_client.get(f"/logs{query}", **HX).content.decode()  # noqa: E731

    first = get("?env=sandbox&size=10&status=failure")
    assert "Page 1 of at least 1001" in first and "at least 10001 rows" in first
    assert row_ids(first) == ids[:10]
    assert link(first, "Last") == "?env=sandbox&size=10&page=-1&status=failure"

    # Last: the ten oldest matches, reached from the oldest end; the pager says where it is.
    last = get(link(first, "Last"))
    assert "Last page" in last and "at least 10001 rows" in last
    assert row_ids(last) == ids[-10:]
    assert link(last, "Next") is None and link(last, "Last") is None
    # Previous walks towards the newer rows, a page from the end at a time.
    before_last = get(link(last, "Previous"))
    assert "Page 2 from the end" in before_last
    assert row_ids(before_last) == ids[-20:-10]
    assert row_ids(get(link(before_last, "Next"))) == ids[-10:]

    # Past where the count stops, Next goes on: the count keeps 10,000 rows ahead of the page.
    deep = get("?env=sandbox&size=10&page=1001&status=failure")
    assert "Page 1001 of at least 2001" in deep
    assert row_ids(deep) == ids[10_000:10_010]
    assert row_ids(get(link(deep, "Next"))) == ids[10_010:10_020]
    # The middle, from either end, and the biggest pages.
    assert row_ids(get("?env=sandbox&size=10&page=2500&status=failure")) == ids[24_990:25_000]
    assert row_ids(get("?env=sandbox&size=10&page=-2500&status=failure")) == ids[-25_000:-24_990]
    assert row_ids(get("?env=sandbox&size=100&page=-1&status=failure")) == ids[-100:]


def test_a_page_from_the_end_is_pushed_to_the_address_bar_and_has_no_number_to_jump_from(
    manager_client, fifty_thousand_failures
):
    response = manager_client.get("/logs?env=sandbox&size=10&page=-3&status=failure", **HX)
    assert response["HX-Push-Url"] == "/?env=sandbox&size=10&page=-3&status=failure"
    html = response.content.decode()
    assert 'data-position="Page 3 from the end"' in html
    # Under a count that stopped, the page jump has no maximum it could not know.
    assert '<input id="page-jump" name="page" type="number" inputmode="numeric" min="1" value="" required>' in html


def test_the_live_check_of_a_page_from_the_end_tells_of_new_rows_instead_of_reloading(
    manager_client, fifty_thousand_failures
):
    newest = fifty_thousand_failures[0]
    factories.log_row(status="failure")
    response = manager_client.get(f"/webhooks/sandbox/logs/new?page=-1&size=10&newest={newest}&status=failure", **HX)
    assert response.status_code == 200
    assert "HX-Trigger" not in response
    assert "1 new" in response.content.decode()


def test_with_an_exact_count_a_page_from_the_end_is_that_page_by_its_number(manager_client):
    for _ in range(25):
        factories.log_row()
    response = manager_client.get("/logs?env=sandbox&size=10&page=-1", **HX, HTTP_HX_TRIGGER="logs")
    html = response.content.decode()
    assert "Page 3 of 3" in html and "there is no page" not in html
    assert len(row_ids(html)) == 5
    assert response["HX-Replace-Url"] == "/?env=sandbox&size=10&page=3"
    assert link(html, "Last") is None


@pytest.mark.usefixtures("allow_loopback")
def test_the_delivery_just_made_is_first_on_page_1_though_older_history_was_seeded_after_it(manager_client, httpserver):
    webhook = Webhook.objects.create(environment="sandbox", url=httpserver.url_for("/hook"), secret="s" * 43)
    httpserver.expect_request("/hook").respond_with_handler(VerifyingReceiver(secret=webhook.secret))
    assert manager_client.post("/webhooks/sandbox/test", **HX).status_code == 200
    fresh = WebhookLog.objects.get()
    # Seeded after it, with the times of the days before it: by insertion, these would come first.
    factories.history(300, until=fresh.created_at - timedelta(seconds=1))
    html = manager_client.get("/logs?env=sandbox&size=10", **HX).content.decode()
    assert row_ids(html)[0] == str(fresh.pk)
    assert "Page 1 of 31" in html


def test_every_matching_delivery_is_reachable_under_a_capped_count_too(manager_client, db):
    # The deliveries view pages as the attempts do: its Last is the oldest deliveries, from that end.
    from management_api.models import Delivery

    start = timezone.now() - timedelta(days=3)
    Delivery.objects.bulk_create(
        Delivery(
            environment="sandbox",
            state="delivered" if i % 50 else "failed",
            type="data_alert",
            event="data_alert.true",
            payload={"title": "x"},
            created_at=start + timedelta(seconds=i),
        )
        for i in range(10_600)
    )
    delivered = [
        str(pk)
        for pk in Delivery.objects.filter(state="delivered").order_by("-created_at", "-id").values_list("pk", flat=True)
    ]
    ids = lambda html: re.findall(r'aria-controls="delivery-([0-9a-f-]{36})"', html)  # noqa: E731
    get = lambda query: manager_client.get(f"/logs{query}", **HX).content.decode()  # noqa: E731

    first = get("?env=sandbox&size=10&view=deliveries&status=success")
    assert "Page 1 of at least 1001" in first and "at least 10001 deliveries" in first
    assert ids(first) == delivered[:10]
    assert link(first, "Last") == "?env=sandbox&size=10&page=-1&status=success&view=deliveries"
    last = get(link(first, "Last"))
    assert "Last page" in last and ids(last) == delivered[-10:]
    assert ids(get(link(last, "Previous"))) == delivered[-20:-10]
    assert ids(get("?env=sandbox&size=10&page=1001&view=deliveries&status=success")) == delivered[10_000:10_010]
