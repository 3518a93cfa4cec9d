"""manage.py rotate_encryption_key: every encrypted value re-encrypted with a new key."""

import io
from datetime import timedelta

import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from management_api.crypto import KEYS_CANNOT_DECRYPT
from management_api.models import Webhook


def raw_tokens() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret, next_secret FROM management_api_webhook ORDER BY environment")
        return [token for row in cursor.fetchall() for token in row if token is not None]


@pytest.fixture
def webhooks(db) -> dict[str, str]:
    """Plain secrets, by what they are: two current ones and one next one."""
    production = Webhook.objects.create(environment="production", url="https://hooks.example.com/p")
    sandbox = Webhook.objects.create(environment="sandbox", url="https://hooks.example.com/s")
    next_secret, _ = sandbox.start_secret_roll(timedelta(hours=24))
    return {"production": production.secret, "sandbox": sandbox.secret, "sandbox next": next_secret}


def rotate() -> str:
    out = io.StringIO()
    call_command("rotate_encryption_key", stdout=out)
    return out.getvalue()


def test_it_prints_the_new_list_when_the_keys_come_from_the_environment(webhooks, settings):
    old_key = settings.FIELD_ENCRYPTION_KEYS[0]
    settings.FIELD_ENCRYPTION_KEYS_IN_GENERATED_FILE = False
    output = rotate()

    [key_list] = [line for line in output.splitlines() if old_key in line]
    new_key, *rest = key_list.split(",")
    assert rest == [old_key] and new_key != old_key
    assert "Encrypted 3 value(s) again" in output
    for secret in webhooks.values():
        assert secret not in output

    # Every value now decrypts with the new key alone, and no longer with the old one.
    tokens = raw_tokens()
    assert len(tokens) == 3
    assert sorted(Fernet(new_key).decrypt(t.encode()).decode() for t in tokens) == sorted(webhooks.values())
    for token in tokens:
        with pytest.raises(InvalidToken):
            Fernet(old_key).decrypt(token.encode())

    settings.FIELD_ENCRYPTION_KEYS = [new_key]
    sandbox = Webhook.objects.get(environment="sandbox")
    assert (sandbox.secret, sandbox.next_secret) == (webhooks["sandbox"], webhooks["sandbox next"])
    assert Webhook.objects.get(environment="production").secret == webhooks["production"]


def test_it_updates_the_generated_file_when_the_keys_come_from_there(webhooks, settings, tmp_path):
    old_key = settings.FIELD_ENCRYPTION_KEYS[0]
    generated = tmp_path / "generated.env"
    generated.write_text(f"# comment\nSECRET_KEY=kept\nFIELD_ENCRYPTION_KEYS={old_key}\nAUTOQL_TOKEN=kept-too\n")
    generated.chmod(0o600)
    settings.GENERATED_ENV_FILE = generated
    settings.FIELD_ENCRYPTION_KEYS_IN_GENERATED_FILE = True

    output = rotate()

    lines = generated.read_text().splitlines()
    [key_line] = [line for line in lines if line.startswith("FIELD_ENCRYPTION_KEYS=")]
    new_key, *rest = key_line.removeprefix("FIELD_ENCRYPTION_KEYS=").split(",")
    assert rest == [old_key] and new_key != old_key
    assert lines == ["# comment", "SECRET_KEY=kept", key_line, "AUTOQL_TOKEN=kept-too"]
    assert generated.stat().st_mode & 0o777 == 0o600
    assert new_key not in output and str(generated) in output
    assert sorted(Fernet(new_key).decrypt(t.encode()).decode() for t in raw_tokens()) == sorted(webhooks.values())


def test_the_old_keys_still_read_values_left_from_before(webhooks, settings):
    """A value written by a process still running with the old list reads with the new list."""
    old_key = settings.FIELD_ENCRYPTION_KEYS[0]
    settings.FIELD_ENCRYPTION_KEYS_IN_GENERATED_FILE = False
    new_key = next(line for line in rotate().splitlines() if old_key in line).split(",")[0]
    Webhook.objects.filter(environment="production").delete()
    late = Webhook.objects.create(environment="production", url="https://hooks.example.com/p")
    settings.FIELD_ENCRYPTION_KEYS = [new_key, old_key]
    assert Webhook.objects.get(environment="production").secret == late.secret


@pytest.mark.parametrize("in_generated_file", [False, True])
def test_a_key_list_that_cannot_decrypt_stops_before_printing_or_writing(
    webhooks, settings, tmp_path, in_generated_file
):
    """Following a printed list that lacks the key in use would lose every secret."""
    generated = tmp_path / "generated.env"
    generated.write_text("FIELD_ENCRYPTION_KEYS=a-key-list-to-keep\n")
    settings.GENERATED_ENV_FILE = generated
    settings.FIELD_ENCRYPTION_KEYS_IN_GENERATED_FILE = in_generated_file
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    before = raw_tokens()
    out = io.StringIO()

    with pytest.raises(CommandError) as raised:
        call_command("rotate_encryption_key", stdout=out)

    assert str(raised.value) == KEYS_CANNOT_DECRYPT
    assert "FIELD_ENCRYPTION_KEYS" in str(raised.value) and "put the key" in str(raised.value)
    assert out.getvalue() == ""
    assert generated.read_text() == "FIELD_ENCRYPTION_KEYS=a-key-list-to-keep\n"
    assert raw_tokens() == before


def test_one_value_the_keys_cannot_decrypt_stops_it_too(webhooks, settings):
    settings.FIELD_ENCRYPTION_KEYS_IN_GENERATED_FILE = False
    stray = Fernet(Fernet.generate_key()).encrypt(b"from another key list").decode()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE management_api_webhook SET next_secret = %s WHERE environment = 'production'", [stray])
    before = raw_tokens()
    out = io.StringIO()
    with pytest.raises(CommandError, match="FIELD_ENCRYPTION_KEYS cannot decrypt"):
        call_command("rotate_encryption_key", stdout=out)
    assert out.getvalue() == "" and raw_tokens() == before
