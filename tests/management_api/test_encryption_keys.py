"""A key list that cannot decrypt the stored secrets: stopped at start, a clear error if met anyway."""

import logging
import os
import subprocess

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from management_api.crypto import KEYS_CANNOT_DECRYPT
from management_api.models import Webhook
from tests.instances import ROOT


@pytest.fixture
def webhook(db) -> Webhook:
    return Webhook.objects.create(environment="sandbox", url="https://hooks.example.com/a")


@pytest.fixture
def keys_changed_by_hand(webhook, settings) -> None:
    """FIELD_ENCRYPTION_KEYS replaced without rotate_encryption_key: the old key is gone."""
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]


def test_check_passes_with_the_keys_that_encrypted(webhook):
    call_command("check")


def test_check_stops_with_one_sentence_naming_the_setting(keys_changed_by_hand):
    with pytest.raises(SystemCheckError) as raised:
        call_command("check")
    assert KEYS_CANNOT_DECRYPT in str(raised.value)
    assert "(management_api.E001)" in str(raised.value)


def test_check_passes_again_once_the_old_key_is_back_behind_the_new_one(webhook, settings):
    old_keys = list(settings.FIELD_ENCRYPTION_KEYS)
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(SystemCheckError):
        call_command("check")
    settings.FIELD_ENCRYPTION_KEYS = [*settings.FIELD_ENCRYPTION_KEYS, *old_keys]
    call_command("check")


def run(*args: str, keys: str, database: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "PYTEST"))}
    env.update(DATABASE_URL=database, FIELD_ENCRYPTION_KEYS=keys)
    command = [str(ROOT / ".venv/bin/python"), "manage.py", *args]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_manage_py_check_and_migrate_stop_and_say_what_to_do(tmp_path):
    database = f"sqlite:///{tmp_path / 'keys.sqlite3'}"
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    # Before migrate there is nothing to read: quiet.
    assert run("check", keys=new, database=database).returncode == 0
    assert run("migrate", "-v0", keys=old, database=database).returncode == 0
    create = "from management_api.models import Webhook; Webhook.objects.create(environment='sandbox', url='https://a.example/')"
    assert run("shell", "-c", create, keys=old, database=database).returncode == 0

    for command in (["check"], ["migrate", "-v0"]):
        stopped = run(*command, keys=new, database=database)
        assert stopped.returncode == 1, stopped
        assert KEYS_CANNOT_DECRYPT in stopped.stderr and "Traceback" not in stopped.stderr

    assert run("check", keys=f"{new},{old}", database=database).returncode == 0


# --- Met anyway, by a server started before the keys changed -------------------------------------


def test_an_api_call_gets_the_sentence_and_503_not_a_500(api, keys_changed_by_hand, caplog):
    caplog.set_level(logging.INFO)
    response = api.call("GET", "/webhooks")
    assert response.status_code == 503
    assert response.json() == {"message": KEYS_CANNOT_DECRYPT, "reference_id": "1.1.503"}
    assert KEYS_CANNOT_DECRYPT in caplog.text and "Traceback" not in caplog.text


def test_an_admin_page_gets_the_sentence_and_503_not_a_500(admin_client, webhook, settings, caplog):
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    for page in ("/admin/management_api/webhook/", f"/admin/management_api/webhook/{webhook.pk}/change/"):
        response = admin_client.get(page)
        assert response.status_code == 503
        assert KEYS_CANNOT_DECRYPT in response.content.decode()
    assert "Traceback" not in caplog.text


def test_the_portal_tab_says_the_card_could_not_load(admin_client, keys_changed_by_hand):
    html = admin_client.get("/").content.decode()
    assert "Couldn&#x27;t load the Sandbox webhook" in html and "sandbox key: 503." in html
    assert admin_client.get("/webhooks/sandbox/card").status_code == 200
