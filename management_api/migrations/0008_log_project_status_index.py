from django.contrib.postgres.operations import AddIndexConcurrently
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


class Migration(migrations.Migration):
    # CREATE INDEX CONCURRENTLY cannot run inside a transaction.
    atomic = False

    dependencies = [
        ("management_api", "0007_webhook_alert_state"),
    ]

    operations = [
        AddIndexWithoutBlockingWrites(
            model_name="webhooklog",
            index=models.Index(
                fields=["environment", "project_id", "status", "created_at", "seq"],
                name="webhooklog_env_project_status",
            ),
        ),
    ]
