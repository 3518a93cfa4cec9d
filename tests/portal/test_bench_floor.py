"""The benchmark's floors (portal/bench_floor.py): a view that inserts one row, a signed-in view
that does nothing and the logs partial's floor, routed only when BENCH_FLOOR_VIEWS=true, so a
production portal never has them."""

import importlib

import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import clear_url_caches
from django.utils import timezone

import portal.urls
from portal import bench_floor
from tests import factories

FLOOR = "/bench/floor/insert-one-row"
SIGNED_IN_FLOOR = "/bench/floor/signed-in-nothing"
LOGS_FLOOR = "/bench/floor/signed-in-logs"
LOGS_QUERY = {"env": "sandbox", "page": "1", "size": "10"}


@pytest.fixture
def floor_views(settings):
    settings.BENCH_FLOOR_VIEWS = True
    importlib.reload(portal.urls)
    clear_url_caches()
    bench_floor._KEPT.clear()
    yield
    bench_floor._KEPT.clear()
    settings.BENCH_FLOOR_VIEWS = False
    importlib.reload(portal.urls)
    clear_url_caches()


@pytest.mark.django_db
def test_without_the_setting_there_is_no_floor_view(client, settings):
    assert settings.BENCH_FLOOR_VIEWS is False
    assert client.post(FLOOR).status_code == 404
    assert not Session.objects.exists()


@pytest.mark.django_db
def test_with_the_setting_the_floor_view_inserts_one_expired_row_per_post(client, floor_views):
    assert client.post(FLOOR).status_code == 202
    assert client.post(FLOOR).status_code == 202
    rows = list(Session.objects.all())
    assert len(rows) == 2 and len({row.session_key for row in rows}) == 2
    assert all(row.expire_date <= timezone.now() and row.session_data == "" for row in rows)
    assert client.get(FLOOR).status_code == 405
    assert Session.objects.count() == 2


@pytest.mark.django_db
def test_without_the_setting_there_is_no_signed_in_floor(client):
    client.force_login(factories.viewer())
    assert client.get(SIGNED_IN_FLOOR).status_code == 404


@pytest.mark.django_db
def test_the_signed_in_floor_answers_only_a_signed_in_person(client, floor_views):
    assert client.get(SIGNED_IN_FLOOR).status_code == 302
    client.force_login(factories.viewer())
    answer = client.get(SIGNED_IN_FLOOR)
    assert (answer.status_code, answer.content) == (200, b"x")


@pytest.mark.django_db
def test_without_the_setting_there_is_no_logs_floor(client):
    client.force_login(factories.viewer())
    assert client.get(LOGS_FLOOR, LOGS_QUERY).status_code == 404


@pytest.mark.django_db
def test_the_logs_floor_makes_the_partials_api_call_and_renders_the_rows_it_kept(client, floor_views):
    for n in range(3):
        factories.log_row(project_id=f"project-{n}")
    assert client.get(LOGS_FLOOR, LOGS_QUERY).status_code == 302
    client.force_login(factories.viewer())
    partial = client.get("/logs", LOGS_QUERY, headers={"HX-Request": "true"}).content.decode()
    first = client.get(LOGS_FLOOR, LOGS_QUERY)
    assert first.status_code == 200
    assert all(f"project-{n}" in partial and f"project-{n}" in first.content.decode() for n in range(3))
    factories.log_row(project_id="project-new")
    with CaptureQueriesContext(connection) as queries:
        again = client.get(LOGS_FLOOR, LOGS_QUERY).content.decode()
    # Rendered from memory, after the same API call (which reads the log) was made again.
    assert "project-new" not in again and "project-2" in again
    assert any("management_api_webhooklog" in query["sql"] for query in queries.captured_queries)
    assert "project-new" in client.get("/logs", LOGS_QUERY, headers={"HX-Request": "true"}).content.decode()
    assert client.post(LOGS_FLOOR, LOGS_QUERY).status_code == 405
