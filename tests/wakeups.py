"""The wake-ups delivery workers hear, heard by a LISTEN connection of the test's own (PostgreSQL)."""

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest
from django.db import connection
from psycopg import sql

from management_api.wakeups import channel, conninfo
from portal import environments

# SQLite has no NOTIFY: its workers poll, which the real-process tests cover on both databases.
postgresql_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="NOTIFY is PostgreSQL's")

END = "end of the test's block"


@contextmanager
def wake_ups_heard() -> Iterator[list[str]]:
    """Yields a list that, once the block ends, holds the environment of every wake-up committed in it."""
    channels = {channel(environment): environment for environment in environments.values()}
    with psycopg.connect(conninfo("tests"), autocommit=True) as listener:
        for name in channels:
            listener.execute(sql.SQL("LISTEN {}").format(sql.Identifier(name)))
        heard: list[str] = []
        yield heard
        # PostgreSQL delivers notifications in commit order: once this marker, committed after the
        # block, has arrived, so has every wake-up the block committed.
        listener.execute("SELECT pg_notify(%s, %s)", [channel("sandbox"), END])
        for notification in listener.notifies(timeout=10):
            if notification.payload == END:
                return
            heard.append(channels[notification.channel])
        raise AssertionError("the end marker never arrived")
