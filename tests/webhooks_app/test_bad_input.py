"""Bad input to the portal gets a clear 4xx (its error page or banner) and stores nothing."""

from urllib.parse import quote

import pytest

from tests.management_api.test_bad_input import TOO_LARGE, assert_nothing_stored, store_a_webhook_and_a_log
from tests.webhooks_app.conftest import HX


@pytest.fixture
def stored(db) -> dict[str, int]:
    return store_a_webhook_and_a_log()


def test_the_portal_answers_a_body_too_large_with_its_error_page(manager_client, stored):
    response = manager_client.post(
        "/webhooks/sandbox/generate", b"url=" + b"a" * TOO_LARGE, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 413
    assert response["Content-Type"].startswith("text/html")
    assert "The request body is larger than 2.5 MB." in response.content.decode()
    assert_nothing_stored(stored)


def test_the_portal_answers_a_body_too_large_from_htmx_with_the_banner(manager_client, stored):
    response = manager_client.post(
        "/webhooks/sandbox/generate",
        b"url=" + b"a" * TOO_LARGE,
        content_type="application/x-www-form-urlencoded",
        **HX,
    )
    assert response.status_code == 413
    assert response["HX-Retarget"] == "#banner"
    assert "larger than 2.5 MB" in response.content.decode()


@pytest.mark.parametrize("log_id", ["²", "١", "1\x00"])
def test_the_portal_finds_no_log_row_for_an_id_that_is_not_ascii_digits(manager_client, stored, log_id):
    response = manager_client.post(f"/webhooks/sandbox/logs/{quote(log_id)}/resend", **HX)
    assert response.status_code == 404
    assert_nothing_stored(stored)


def test_the_portal_refuses_json_it_cannot_store(manager_client, stored):
    response = manager_client.post("/webhooks/sandbox/generate", b'{"url": "\\u0000"}', content_type="application/json")
    assert response.status_code == 400
    assert "url: the text must not contain the NUL character" in response.content.decode()
    assert_nothing_stored(stored)


@pytest.mark.parametrize("query", ["env=%00", "page=1%00", "%00=1"])
def test_the_portal_refuses_nul_in_a_query_parameter(manager_client, stored, query):
    response = manager_client.get(f"/?{query}")
    assert response.status_code == 400
    assert "must not contain the NUL character" in response.content.decode()
