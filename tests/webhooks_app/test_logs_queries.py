"""The tab's logs part costs a fixed number of queries, however many rows it shows."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.webhooks_app.conftest import HX
from tests.webhooks_app.test_webhooks_tab import make_logs

# The session and its user, the user's permissions (two), and the logs page through the API (two).
# The session is saved only when its end moves forward, at most once a minute: not here, after the
# first request.
MOST_QUERIES = 6


def test_the_logs_part_takes_the_same_few_queries_for_10_rows_and_for_50(manager_client):
    make_logs(60)
    manager_client.get("/logs?env=sandbox", **HX)
    counts = []
    for size in (10, 50):
        with CaptureQueriesContext(connection) as queries:
            response = manager_client.get(f"/logs?env=sandbox&size={size}", **HX)
        assert response.content.decode().count('class="log-row"') == size
        counts.append(len(queries))
    assert counts[0] == counts[1] <= MOST_QUERIES, counts


def test_the_tab_with_its_cards_and_logs_in_the_page_takes_a_fixed_few_queries(manager_client):
    make_logs(60)
    manager_client.get("/")
    counts = []
    for size in (10, 50):
        with CaptureQueriesContext(connection) as queries:
            response = manager_client.get(f"/?env=sandbox&size={size}")
        assert response.content.decode().count('class="log-row"') == size
        counts.append(len(queries))
    # The logs part's queries and each card's webhook.
    assert counts[0] == counts[1] <= MOST_QUERIES + 2, counts


def test_the_table_reads_only_what_closed_rows_show_and_the_live_check_only_ids(manager_client):
    make_logs(12)
    manager_client.get("/logs?env=sandbox", **HX)
    for url in ("/logs?env=sandbox&size=10", "/logs?env=sandbox&size=10&status=failure"):
        with CaptureQueriesContext(connection) as queries:
            html = manager_client.get(url, **HX).content.decode()
        assert html.count('class="log-row"') > 0 and "proj-" in html and "data_alert.true" in html
        rows_read = [q["sql"] for q in queries if '"event"' in q["sql"] and "webhooklog" in q["sql"]]
        assert rows_read, [q["sql"] for q in queries]
        # A closed row needs none of what was sent and received: that loads when it opens.
        assert not [sql for sql in rows_read if '"response"' in sql or '"request_body"' in sql], rows_read
    with CaptureQueriesContext(connection) as queries:
        manager_client.get("/webhooks/sandbox/logs/new?newest=1", **HX)
    rows_read = [q["sql"] for q in queries if "webhooklog" in q["sql"] and "SELECT" in q["sql"]]
    assert rows_read and not [sql for sql in rows_read if '"event"' in sql], rows_read
