"""Webhook secrets at rest: encrypted in the database, never empty, never set through the admin."""

import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import FieldError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from management_api.alerts import data_alert_payload
from management_api.crypto import DecryptionFailed
from management_api.models import Webhook


def raw_column(column: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM management_api_webhook")
        return [row[0] for row in cursor.fetchall()]


def database_file_bytes() -> bytes:
    """The database file and its write-ahead log, as they are on disk.

    Read by another process: closing a file descriptor of the database in this one would drop
    this process's SQLite locks on it, and a worker started later could then remove the log
    under this process's connection.
    """
    path = Path(connection.settings_dict["NAME"])
    files = [p for p in (path, path.with_name(path.name + "-wal")) if p.exists()]
    return subprocess.run(["cat", *map(str, files)], capture_output=True, check=True).stdout


@pytest.mark.django_db(transaction=True)
def test_the_database_never_holds_a_secret_in_plain_text(api):
    created = api.create(url="https://hooks.example.com/plain-url-marker")
    rolled = api.call("POST", "/webhooks/sandbox/secret/roll", {}).json()["data"]
    secrets = [created["secret"], rolled["next_secret"]]

    [stored], [stored_next] = raw_column("secret"), raw_column("next_secret")
    for token, secret in ((stored, secrets[0]), (stored_next, secrets[1])):
        assert secret not in token
        assert Fernet(settings.FIELD_ENCRYPTION_KEYS[0]).decrypt(token.encode()).decode() == secret

    if connection.vendor == "sqlite":
        raw = database_file_bytes()
        # The row is in what was read (its URL is stored in plain text), its secrets are not.
        assert b"plain-url-marker" in raw
        for secret in secrets:
            assert secret.encode() not in raw


@pytest.mark.django_db(transaction=True)
def test_the_api_credentials_never_reach_the_database(api):
    api.create(url="https://hooks.example.com/plain-url-marker")
    payload = data_alert_payload("project1", "High Sales", "Goal reached")
    events = api.call("POST", "/webhooks/sandbox/events", {"event": "data_alert.true", "payload": payload})
    assert events.status_code == 202
    assert api.call("GET", "/webhooks/sandbox/logs").status_code == 200
    assert api.call("PUT", "/webhooks/sandbox/secret", {}, token="a-wrong-token").status_code == 401
    credentials = [settings.AUTOQL_SANDBOX_API_KEY, settings.AUTOQL_PRODUCTION_API_KEY, settings.AUTOQL_TOKEN]

    everything = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            everything.append(repr(cursor.fetchall()))
    dump = "\n".join(everything)
    assert "plain-url-marker" in dump and "High Sales" in dump
    for credential in credentials:
        assert credential not in dump
    if connection.vendor == "sqlite":
        raw = database_file_bytes()
        for credential in credentials:
            assert credential.encode() not in raw


def test_a_secret_is_generated_whenever_none_is_given(db):
    for given in ({}, {"secret": ""}, {"secret": None}):
        webhook = Webhook.objects.create(environment="sandbox", url="https://hooks.example.com/a", **given)
        assert len(Webhook.objects.get().secret) == 43
        webhook.delete()


def test_saving_an_emptied_secret_generates_a_new_one(db):
    webhook = Webhook.objects.create(environment="sandbox", url="https://hooks.example.com/a")
    old = webhook.secret
    webhook.secret = ""
    webhook.save()
    assert Webhook.objects.get().secret not in ("", old) and len(Webhook.objects.get().secret) == 43


def test_the_admin_cannot_see_or_set_the_secret(client, db):
    admin = User.objects.create_superuser("root", "root@example.com", "a-long-pass-phrase")
    client.force_login(admin)
    form = client.get("/admin/management_api/webhook/add/")
    assert form.status_code == 200 and b'name="url"' in form.content
    assert b'name="secret"' not in form.content and b'name="next_secret"' not in form.content

    response = client.post(
        "/admin/management_api/webhook/add/",
        {"environment": "sandbox", "url": "https://hooks.example.com/a", "secret": "", "disabled_reason": ""},
    )
    assert response.status_code == 302, response.content
    webhook = Webhook.objects.get()
    assert len(webhook.secret) == 43

    change = client.get(f"/admin/management_api/webhook/{webhook.pk}/change/")
    assert change.status_code == 200 and webhook.secret.encode() not in change.content


def test_searching_by_secret_is_refused_rather_than_matching_nothing(db):
    webhook = Webhook.objects.create(environment="sandbox", url="https://hooks.example.com/a")
    with pytest.raises(FieldError):
        Webhook.objects.filter(secret=webhook.secret).exists()
    assert Webhook.objects.filter(next_secret__isnull=True).count() == 1


def test_a_missing_key_is_an_error_that_names_no_value(db, settings):
    webhook = Webhook.objects.create(environment="sandbox", url="https://hooks.example.com/a")
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(DecryptionFailed) as raised:
        Webhook.objects.get()
    assert "FIELD_ENCRYPTION_KEYS" in str(raised.value) and webhook.secret not in str(raised.value)


@pytest.mark.django_db(transaction=True)
def test_the_migration_encrypts_existing_plain_secrets_and_back():
    executor = MigrationExecutor(connection)
    before, after = (
        [("management_api", "0003_move_demo_receipt")],
        [("management_api", "0004_encrypted_secrets_and_roll")],
    )
    plain = "p" * 43
    try:
        executor.migrate(before)
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO management_api_webhook"
                " (environment, url, secret, created_at, updated_at, disabled_reason)"
                " VALUES (%s, %s, %s, %s, %s, %s)",
                ["sandbox", "https://hooks.example.com/a", plain, "2026-01-01", "2026-01-01", ""],
            )
        executor = MigrationExecutor(connection)
        executor.migrate(after)
        [stored] = raw_column("secret")
        assert plain not in stored
        # Only the secret: fields added by later migrations have no column yet.
        assert Webhook.objects.only("secret").get().secret == plain

        executor = MigrationExecutor(connection)
        executor.migrate(before)
        assert raw_column("secret") == [plain]
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
        Webhook.objects.all().delete()


def test_an_expiry_in_the_past_is_promoted_on_read_by_the_model(db):
    webhook = Webhook.objects.create(environment="sandbox", url="https://hooks.example.com/a")
    next_secret, activates_at = webhook.start_secret_roll(timedelta(hours=1))
    Webhook.objects.update(next_secret_activates_at=activates_at - timedelta(hours=2))
    assert Webhook.objects.get().signing_secret() == next_secret
    [stored] = raw_column("secret")
    assert next_secret not in stored
