"""dumpdata and loaddata: a JSON (or XML) backup carries tokens, never a secret, and restores them."""

import io
import json
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command

from management_api.crypto import KEYS_CANNOT_DECRYPT, SERIALIZED_PREFIX
from management_api.models import Webhook


@pytest.fixture
def secrets(db) -> dict[str, str]:
    """Plain secrets, by what they are: two current ones and one next one."""
    production = Webhook.objects.create(environment="production", url="https://hooks.example.com/p")
    sandbox = Webhook.objects.create(environment="sandbox", url="https://hooks.example.com/s")
    next_secret, _ = sandbox.start_secret_roll(timedelta(hours=24))
    return {"production": production.secret, "sandbox": sandbox.secret, "sandbox next": next_secret}


def dump(path: Path, file_format: str = "json") -> str:
    call_command("dumpdata", "management_api.webhook", format=file_format, output=str(path), verbosity=0)
    return path.read_text()


def stored_secrets() -> dict[str, str | None]:
    return {
        **{w.environment: w.secret for w in Webhook.objects.all()},
        "sandbox next": Webhook.objects.get(environment="sandbox").next_secret,
    }


def test_a_json_dump_holds_tokens_that_only_the_keys_open(secrets, settings, tmp_path):
    text = dump(tmp_path / "backup.json")
    for secret in secrets.values():
        assert secret not in text
    rows = {row["fields"]["environment"]: row["fields"] for row in json.loads(text)}
    assert rows["production"]["next_secret"] is None
    tokens = {
        "production": rows["production"]["secret"],
        "sandbox": rows["sandbox"]["secret"],
        "sandbox next": rows["sandbox"]["next_secret"],
    }
    key = Fernet(settings.FIELD_ENCRYPTION_KEYS[0])
    for name, token in tokens.items():
        assert token.startswith(SERIALIZED_PREFIX)
        assert key.decrypt(token.removeprefix(SERIALIZED_PREFIX).encode()).decode() == secrets[name]


@pytest.mark.parametrize("file_format", ["json", "xml"])
def test_loaddata_restores_the_same_secrets(secrets, tmp_path, file_format):
    path = tmp_path / f"backup.{file_format}"
    text = dump(path, file_format)
    assert not any(secret in text for secret in secrets.values())
    Webhook.objects.all().delete()
    call_command("loaddata", str(path), verbosity=0)
    assert stored_secrets() == secrets


def test_a_backup_reads_with_the_old_key_still_in_the_list(secrets, settings, tmp_path):
    path = tmp_path / "backup.json"
    dump(path)
    settings.FIELD_ENCRYPTION_KEYS_IN_GENERATED_FILE = False
    call_command("rotate_encryption_key", stdout=io.StringIO())
    Webhook.objects.all().delete()
    call_command("loaddata", str(path), verbosity=0)
    assert stored_secrets() == secrets


def test_a_backup_without_its_key_is_refused_and_stores_nothing(secrets, settings, tmp_path):
    path = tmp_path / "backup.json"
    dump(path)
    Webhook.objects.all().delete()
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(Exception, match="FIELD_ENCRYPTION_KEYS cannot decrypt") as raised:
        call_command("loaddata", str(path), verbosity=0)
    assert KEYS_CANNOT_DECRYPT in str(raised.value)
    assert not Webhook.objects.exists()


def test_a_backup_with_plain_secrets_from_before_still_loads_and_is_encrypted(db, tmp_path):
    path = tmp_path / "old-backup.json"
    plain = "p" * 43
    fields = {"environment": "sandbox", "url": "https://hooks.example.com/a", "secret": plain, "next_secret": None}
    fields |= {"created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z", "disabled_reason": ""}
    path.write_text(json.dumps([{"model": "management_api.webhook", "pk": 1, "fields": fields}]))
    call_command("loaddata", str(path), verbosity=0)
    assert Webhook.objects.get().secret == plain
    assert plain not in dump(tmp_path / "again.json")


def test_the_whole_backup_the_readme_names_holds_no_secret_and_restores(secrets, tmp_path):
    path = tmp_path / "backup.json"
    # README, "Webhook secrets: at rest and rolling".
    call_command(
        "dumpdata",
        natural_foreign=True,
        natural_primary=True,
        exclude=["contenttypes", "auth.permission", "webhooks_app"],
        output=str(path),
        verbosity=0,
    )
    text = path.read_text()
    assert "https://hooks.example.com/s" in text
    for secret in secrets.values():
        assert secret not in text
    Webhook.objects.all().delete()
    call_command("loaddata", str(path), verbosity=0)
    assert stored_secrets() == secrets
