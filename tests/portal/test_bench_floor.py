"""The benchmark's floors (portal/bench_floor.py): a view that inserts one row and a signed-in view
that does nothing, routed only when BENCH_FLOOR_VIEWS=true, so a production portal never has them."""

import importlib

import pytest
from django.contrib.sessions.models import Session
from django.urls import clear_url_caches
from django.utils import timezone

import portal.urls
from tests import factories

FLOOR = "/bench/floor/insert-one-row"
SIGNED_IN_FLOOR = "/bench/floor/signed-in-nothing"


@pytest.fixture
def floor_views(settings):
    settings.BENCH_FLOOR_VIEWS = True
    importlib.reload(portal.urls)
    clear_url_caches()
    yield
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
