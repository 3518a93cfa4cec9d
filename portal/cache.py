"""Django's RedisCache, cheaper per call: what CACHE_URL=redis://... gives the portal.

Every API call counts against its rate limit through the cache, and Django's client spent more on
itself than Redis on the work: it builds a new `redis.Redis` for every operation, and its `incr`
asks whether the key exists before adding to it, two round trips. Here each connection pool keeps
one `redis.Redis` (thread-safe: it takes a connection from the pool for each command), and `incr`
is one script that does both in Redis. The API's limits count a call with `count_call`: what
django-ratelimit does with an `add`, then an `incr`, in one script (management_api/middleware.py);
the portal's own limits (webhooks_app/limits.py) still go through django-ratelimit's pair. Everything
else is Django's.
"""

import threading
from typing import Any, cast

from django.core.cache.backends import redis as django_redis

# INCRBY on a key that exists, in one round trip; nothing for one that does not (Django's contract:
# incr of a missing key raises ValueError, where INCRBY alone would create it without an expiry).
INCR_EXISTING = """
if redis.call('EXISTS', KEYS[1]) == 1 then
    return redis.call('INCRBY', KEYS[1], ARGV[1])
end
return false
"""

# One more call in a rate limit's window: the count, from 1 for the window's first call, which
# also sets the window's expiry (django-ratelimit's `add` of 1, else its `incr`, in one round trip).
COUNT_CALL = """
local count = redis.call('INCR', KEYS[1])
if redis.call('TTL', KEYS[1]) < 0 then
    redis.call('EXPIRE', KEYS[1], ARGV[1])
end
return count
"""


class RedisCacheClient(django_redis.RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}
        self._clients_lock = threading.Lock()

    # Django's private helpers, which django-stubs does not declare: pinned by constraints.txt, and
    # tests/portal/test_cache.py runs this against a real Redis.
    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        index = self._get_connection_pool_index(write)  # type: ignore[attr-defined]
        client = self._clients.get(index)
        if client is None:
            with self._clients_lock:
                client = self._clients.get(index)
                if client is None:
                    pool = self._get_connection_pool(write)  # type: ignore[attr-defined]
                    client = self._clients[index] = self._client(connection_pool=pool)  # type: ignore[attr-defined]
        return client

    def incr(self, key: Any, delta: int) -> int:
        value = self.get_client(key, write=True).eval(INCR_EXISTING, 1, key, delta)
        if value is None:
            raise ValueError(f"Key '{key}' not found.")
        return int(value)

    def count_call(self, key: Any, timeout: int) -> int:
        return int(self.get_client(key, write=True).eval(COUNT_CALL, 1, key, timeout))


class RedisCache(django_redis.RedisCache):
    def __init__(self, server: Any, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = RedisCacheClient

    def count_call(self, key: Any, timeout: int, version: int | None = None) -> int:
        """One more call in the rate limit window `key` (which expires `timeout` seconds after its
        first call): the window's count, this call included."""
        key = self.make_and_validate_key(key, version=version)
        return cast(RedisCacheClient, self._cache).count_call(key, timeout)
