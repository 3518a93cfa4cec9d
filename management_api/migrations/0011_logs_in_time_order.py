from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently
from django.db import migrations, models


class AddIndexWithoutBlockingWrites(migrations.AddIndex):
    """On PostgreSQL, CREATE INDEX CONCURRENTLY: a log table of millions of rows keeps taking
    deliveries while the index builds. SQLite has no such thing and builds it as usual."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            operation = AddIndexConcurrently(self.model_name, self.index)
            operation.database_forwards(app_label, schema_editor, from_state, to_state)
        else:
            super().database_forwards(app_label, schema_editor, from_state, to_state)


class RemoveIndexWithoutBlockingWrites(migrations.RemoveIndex):
    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            operation = RemoveIndexConcurrently(self.model_name, self.name)
            operation.database_forwards(app_label, schema_editor, from_state, to_state)
        else:
            super().database_forwards(app_label, schema_editor, from_state, to_state)


def by_time(column: str | None, name: str) -> AddIndexWithoutBlockingWrites:
    fields = ["environment", *([column] if column else []), "created_at", "seq"]
    return AddIndexWithoutBlockingWrites(model_name="webhooklog", index=models.Index(fields=fields, name=name))


class Migration(migrations.Migration):
    """Rows sort by their time, newest first (issue 19): the pages' indexes end in (created_at, seq)
    instead of seq. The new ones are built before the old ones go, so no page is ever unindexed."""

    # CREATE/DROP INDEX CONCURRENTLY cannot run inside a transaction.
    atomic = False

    dependencies = [
        ("management_api", "0010_environments_from_settings"),
    ]

    operations = [
        by_time(None, "webhooklog_env_time"),
        by_time("status", "webhooklog_env_status_time"),
        by_time("type", "webhooklog_env_type_time"),
        by_time("event", "webhooklog_env_event_time"),
        by_time("project_id", "webhooklog_env_project_time"),
        RemoveIndexWithoutBlockingWrites(model_name="webhooklog", name="webhooklog_env_status_seq"),
        RemoveIndexWithoutBlockingWrites(model_name="webhooklog", name="webhooklog_env_type_seq"),
        RemoveIndexWithoutBlockingWrites(model_name="webhooklog", name="webhooklog_env_event_seq"),
        RemoveIndexWithoutBlockingWrites(model_name="webhooklog", name="webhooklog_env_project_seq"),
    ]
