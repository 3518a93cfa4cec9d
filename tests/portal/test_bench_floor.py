"""The benchmark's ingest floor (portal/bench_floor.py): a view that inserts one row, routed only
when BENCH_FLOOR_VIEWS=true, so a production portal never has it."""

import importlib

import pytest
from django.contrib.sessions.models import Session
from django.urls import clear_url_caches
from django.utils import timezone

import portal.urls

FLOOR = "/bench/floor/insert-one-row"


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
