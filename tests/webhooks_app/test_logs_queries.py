"""The tab's logs partial costs a fixed number of queries, however many rows it shows."""

import pytest

from tests.webhooks_app.conftest import HX
from tests.webhooks_app.test_webhooks_tab import make_logs


@pytest.mark.parametrize(("rows", "size"), [(3, 10), (60, 50)])
def test_the_logs_partial_takes_a_fixed_number_of_queries(manager_client, django_assert_num_queries, rows, size):
    make_logs(rows)
    # The session and its user, the user's permissions (two), the logs page through the API (two),
    # and the session saved again (its savepoint, update, release).
    with django_assert_num_queries(9):
        response = manager_client.get(f"/?env=sandbox&size={size}", **HX, HTTP_HX_TARGET="logs")
    assert response.content.decode().count('class="log-row"') == min(rows, size)
