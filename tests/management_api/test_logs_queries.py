"""The logs page costs a fixed number of queries, however many rows the log holds or the page shows."""

import pytest

from tests.management_api.test_logs import page, write_logs


@pytest.mark.parametrize(("rows", "query"), [(3, ""), (40, "&limit=25"), (40, "&offset=30&limit=25")])
def test_a_logs_page_takes_two_queries(api, django_assert_num_queries, rows, query):
    write_logs(rows)
    # The environment's numbering (first, last), then one index range of rows: no COUNT, no OFFSET.
    with django_assert_num_queries(2):
        response = page(api, query)
    assert response.status_code == 200 and response.json()["data"]["items"]
