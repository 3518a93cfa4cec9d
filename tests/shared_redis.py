"""The Redis the tests share with the machine (NODES_REDIS_URL, a real redis-server): each test keeps
its keys under a prefix of its own and removes them afterwards."""

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import redis

REDIS = os.environ.get("NODES_REDIS_URL", "redis://127.0.0.1:6379/0")


@contextmanager
def own_cache_prefix(name: str) -> Iterator[tuple[redis.Redis, str]]:
    """A client of the shared Redis and a key prefix no other run uses; its keys go at the end."""
    client = redis.Redis.from_url(REDIS)
    prefix = f"{name}-{os.getpid()}-{secrets.token_hex(4)}"
    try:
        yield client, prefix
    finally:
        for key in client.scan_iter(f"{prefix}:*"):
            client.delete(key)
        client.close()
