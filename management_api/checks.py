"""A start-up check (Django's system checks) that the encryption keys read the stored secrets.

`manage.py check`, `migrate` (so `make run`), `delivery_worker` and every other command run it first.
Without it, a FIELD_ENCRYPTION_KEYS changed by hand (without rotate_encryption_key) would start
the server, and every call that reads a secret would fail.
"""

from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.migrations.executor import MigrationExecutor

from management_api.crypto import KEYS_CANNOT_DECRYPT, undecryptable_count

# A few rows of each encrypted column tell a wrong key list as well as all of them would.
ROWS_CHECKED = 5


@checks.register(checks.Tags.database)
def stored_secrets_decrypt(
    *, app_configs: Sequence[AppConfig] | None, databases: Sequence[str] | None, **kwargs: Any
) -> list[checks.CheckMessage]:
    # Django passes no databases to a plain `manage.py check`; this one is checked all the same.
    connection = connections[DEFAULT_DB_ALIAS if not databases else databases[0]]
    try:
        executor = MigrationExecutor(connection)
        if executor.migration_plan(executor.loader.graph.leaf_nodes()):
            # Not migrated yet (a new database, or secrets not yet encrypted by a migration):
            # migrate comes first, and this check runs again with the next command.
            return []
        if not undecryptable_count(connection, limit=ROWS_CHECKED):
            return []
    except DatabaseError:
        # No database to read (not reachable, not created): whatever needs it will say so.
        return []
    except ImproperlyConfigured as e:
        # FIELD_ENCRYPTION_KEYS empty, or holding something that is not a key.
        return [checks.Error(str(e), id="management_api.E002")]
    return [checks.Error(KEYS_CANNOT_DECRYPT, id="management_api.E001")]
