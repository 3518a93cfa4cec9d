"""GET /webhooks/{environment}/logs/{id}: one log row, as the logs page answers it."""

import pytest

from tests.management_api.test_logs import page, write_logs


def test_it_answers_the_row_as_the_logs_page_does(api):
    rows = write_logs(3)
    response = api.call("GET", f"/webhooks/sandbox/logs/{rows[1].pk}")
    assert response.status_code == 200
    listed = next(item for item in page(api).json()["data"]["items"] if item["id"] == str(rows[1].pk))
    assert response.json()["data"] == listed
    assert listed["response"] == {"n": 1}


@pytest.mark.parametrize("log_id", ["999", "１", "99999999999999999999", "abc"])
def test_no_such_row_is_404(api, log_id):
    write_logs(1)
    response = api.call("GET", f"/webhooks/sandbox/logs/{log_id}")
    assert response.status_code == 404
    assert response.json()["reference_id"] == "1.1.404"


def test_a_row_of_the_other_environment_is_404(api):
    (row,) = write_logs(1, "production")
    response = api.call("GET", f"/webhooks/sandbox/logs/{row.pk}")
    assert response.status_code == 404 and str(row.pk) in response.json()["message"]
    assert api.call("GET", f"/webhooks/production/logs/{row.pk}", environment="production").status_code == 200


def test_it_needs_the_key_of_its_environment(api):
    (row,) = write_logs(1)
    assert api.call("GET", f"/webhooks/sandbox/logs/{row.pk}", key="wrong").status_code == 401
    assert api.call("GET", f"/webhooks/sandbox/logs/{row.pk}", environment="production").status_code == 403
