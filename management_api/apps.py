import os
from typing import Any

from django.apps import AppConfig
from django.db.backends.signals import connection_created


def keep_sqlite_file_private(sender: Any, connection: Any, **kwargs: Any) -> None:
    """The SQLite file holds the webhooks and the log: owner-only (0600), like var/ it lives in.

    SQLite creates it (and its -wal and -shm companions) with the process's umask; whoever opens
    it first makes it private, so a migrate on a fresh machine leaves no readable copy behind.
    """
    if connection.vendor != "sqlite":
        return
    name = str(connection.settings_dict.get("NAME") or "")
    if not name or name == ":memory:" or name.startswith("file:"):
        return
    for path in (name, f"{name}-wal", f"{name}-shm"):
        try:
            os.chmod(path, 0o600)
        except FileNotFoundError:
            continue


class ManagementApiConfig(AppConfig):
    name = "management_api"
    verbose_name = "Management API"

    def ready(self) -> None:
        connection_created.connect(keep_sqlite_file_private, dispatch_uid="keep_sqlite_file_private")
        # Registers the start-up check that the encryption keys read the stored secrets.
        from management_api import checks  # noqa: F401
