"""Wake-ups for the delivery workers: PostgreSQL's NOTIFY, heard on a LISTEN connection of their own.

The delivery rows are the queue; a wake-up only spares an idle worker the rest of its wait. A
transaction that makes a delivery due (or moves when one is due) notifies its environment's
channel once it has committed, never for a transaction or savepoint rolled back. SQLite has nothing
like it, so there this is a no-op and the workers poll every WEBHOOK_POLL_INTERVAL; on PostgreSQL
that poll is the safety net, so a lost wake-up costs at most one interval.

The NOTIFY is sent after the commit, in a transaction of its own that does not wait for the disk.
Sent inside the writing transaction, it would serialise every such commit: PostgreSQL holds one
lock for all of a database's notifying transactions from before their commit until after it, disk
flush included, so 50 clients queueing alerts were accepted one flush at a time (86 a second
through two nodes here, against 240 for the same insert without the NOTIFY).
"""

import functools
import logging
import threading

from django.conf import settings
from django.db import DatabaseError, connection, transaction

logger = logging.getLogger(__name__)

# How often the listener stops waiting for a notification to see whether the worker is stopping.
LISTEN_TIMEOUT_S = 1.0
# How long it waits before connecting again after its connection dropped or could not be opened.
RECONNECT_AFTER_S = 1.0
# OPTIONS that Django's PostgreSQL backend reads itself; the others are libpq's connection parameters.
DJANGO_ONLY_OPTIONS = {"isolation_level", "server_side_binding", "pool", "assume_role", "cursor_factory", "context"}


def channel(environment: str) -> str:
    return f"webhook_deliveries_{environment}"


def announced() -> bool:
    """Whether wake-ups are sent on this database (PostgreSQL); elsewhere the workers poll."""
    return connection.vendor == "postgresql"


def announce_due(environment: str) -> None:
    """Wake the workers of `environment` once the current transaction commits (at once outside one)."""
    if not announced():
        return
    wake_up = functools.partial(_notify, environment)
    # Once per environment and transaction, however many deliveries it queues. A wake-up registered
    # in a savepoint that was rolled back is no longer listed (Django drops it), so it is registered
    # again; one still listed is sent unless its own savepoint rolls back, which would roll this
    # one's work back too.
    registered = [entry[1] for entry in connection.run_on_commit]  # (savepoint ids, function, robust)
    if connection.in_atomic_block and any(
        isinstance(func, functools.partial) and func.func is _notify and func.args == wake_up.args
        for func in registered
    ):
        return
    transaction.on_commit(wake_up)


def _notify(environment: str) -> None:
    # https://www.postgresql.org/docs/current/sql-notify.html: pg_notify takes the channel as a value.
    # One statement is one transaction here (autocommit); set_config(..., true) applies to it alone:
    # a wake-up lost to a crash costs one poll interval, and nothing waits on the disk for it.
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT set_config('synchronous_commit', 'off', true), pg_notify(%s, '')", [channel(environment)]
            )
    except DatabaseError:
        # What it announces is committed; the workers' poll finds it.
        logger.warning("Could not wake the %s delivery workers; their next poll finds the work", environment)


def conninfo(application_name: str) -> str:
    """libpq's connection string for the database in DATABASES["default"]."""
    # psycopg is imported only where PostgreSQL is used: loaded on SQLite, it would make every web
    # and worker process some 8 MB larger for nothing.
    from psycopg.conninfo import make_conninfo

    database = settings.DATABASES["default"]
    options = {key: value for key, value in database.get("OPTIONS", {}).items() if key not in DJANGO_ONLY_OPTIONS}
    params = {
        "dbname": database.get("NAME"),
        "user": database.get("USER"),
        "password": database.get("PASSWORD"),
        "host": database.get("HOST"),
        "port": database.get("PORT"),
        **options,
        # Names the connection in pg_stat_activity.
        "application_name": application_name,
    }
    return make_conninfo(**{key: value for key, value in params.items() if value not in (None, "")})


def listen_forever(woken: dict[str, threading.Event], stop: threading.Event, application_name: str) -> None:
    """Set `woken[environment]` at each wake-up of that environment until `stop` is set.

    Uses a connection of its own in autocommit (psycopg's `notifies`:
    https://www.psycopg.org/psycopg3/docs/advanced/async.html#asynchronous-notifications),
    opened again whenever it drops.
    """
    import psycopg  # PostgreSQL only, as in conninfo
    from psycopg import sql

    environments = {channel(environment): environment for environment in woken}
    while not stop.is_set():
        try:
            with psycopg.connect(conninfo(application_name), autocommit=True) as listener:
                for name in environments:
                    listener.execute(sql.SQL("LISTEN {}").format(sql.Identifier(name)))
                # What was committed while nobody listened (before the start, or while the
                # connection was down) brought no wake-up: every loop looks at the rows again.
                for event in woken.values():
                    event.set()
                while not stop.is_set():
                    for notification in listener.notifies(timeout=LISTEN_TIMEOUT_S):
                        woken[environments[notification.channel]].set()
        except psycopg.Error as e:
            logger.warning(
                "The workers' wake-up connection to the database failed (%s); they poll every %g s until it is back",
                str(e).strip(),
                settings.WEBHOOK_POLL_INTERVAL,
            )
            stop.wait(RECONNECT_AFTER_S)
