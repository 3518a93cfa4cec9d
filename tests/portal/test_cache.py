"""The shared cache (portal/cache.py): Django's RedisCache, against a real Redis, with one client
per connection pool and `incr` as one script."""

import pytest
import redis

from portal.cache import RedisCache
from tests.shared_redis import REDIS, own_cache_prefix


@pytest.fixture
def cache():
    with own_cache_prefix("test-cache") as (_, prefix):
        yield RedisCache(REDIS, {"KEY_PREFIX": prefix})


def test_it_counts_as_django_ratelimit_uses_it(cache):
    with pytest.raises(ValueError, match="not found"):
        cache.incr("calls")
    assert cache.get("calls") is None  # a missing key is not created without its expiry
    assert cache.add("calls", 1, 60) is True
    assert cache.add("calls", 1, 60) is False
    assert [cache.incr("calls") for _ in range(3)] == [2, 3, 4]
    assert cache.incr("calls", 10) == 14
    assert cache.get("calls") == 14
    server = redis.Redis.from_url(REDIS)
    assert 0 < server.ttl(cache.make_key("calls")) <= 60  # the window's expiry is kept


def test_each_pool_keeps_one_client(cache):
    # Django's own builds a redis.Redis for every operation, which cost more than the operation.
    assert cache._cache.get_client(write=True) is cache._cache.get_client("calls", write=True)
    assert cache._cache.get_client() is cache._cache.get_client("calls")


def test_count_call_counts_a_window_in_one_script_and_keeps_its_expiry(cache):
    assert [cache.count_call("window", 60) for _ in range(3)] == [1, 2, 3]
    server = redis.Redis.from_url(REDIS)
    assert 0 < server.ttl(cache.make_key("window")) <= 60
    assert cache.get("window") == 3  # what django-ratelimit's get_usage reads
    # A window django-ratelimit's own `add` began goes on counting, its expiry unchanged.
    assert cache.add("begun", 1, 30) is True
    assert cache.count_call("begun", 600) == 2
    assert 0 < server.ttl(cache.make_key("begun")) <= 30
    server.close()
