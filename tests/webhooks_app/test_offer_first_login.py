"""`manage.py offer_first_login`: the first admin, its password kept in an owner-only file, and
where to sign in, said again on demand until that password is changed."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from tests import factories

User = get_user_model()


@pytest.fixture
def password_file(settings, tmp_path):
    settings.FIRST_LOGIN_FILE = tmp_path / "var" / "first-login.txt"
    return settings.FIRST_LOGIN_FILE


def offer(url: str = "http://127.0.0.1:8123") -> str:
    out = StringIO()
    call_command("offer_first_login", "--url", url, stdout=out)
    return out.getvalue()


def test_it_creates_the_admin_and_keeps_its_password_in_an_owner_only_file(db, password_file):
    output = offer()
    password = password_file.read_text().strip()
    assert User.objects.get(username="admin").check_password(password)
    assert User.objects.get(username="admin").is_superuser
    assert password_file.stat().st_mode & 0o777 == 0o600
    assert password_file.parent.stat().st_mode & 0o777 == 0o700
    assert "Sign in at  http://127.0.0.1:8123/accounts/login/" in output
    assert "user:      admin" in output and str(password_file) in output
    # The terminal (and whatever keeps its output) never sees the password itself.
    assert password not in output


def test_it_says_the_same_again_on_demand_without_a_new_password(db, password_file):
    first = offer()
    password = password_file.read_text()
    assert offer() == first
    assert password_file.read_text() == password and User.objects.count() == 1


def test_a_changed_password_is_no_longer_kept(db, password_file):
    offer()
    admin = User.objects.get(username="admin")
    admin.set_password("a-new-password-9")
    admin.save()
    output = offer()
    assert not password_file.exists()
    assert "Sign in at  http://127.0.0.1:8123/accounts/login/" in output and "No first password is kept" in output


def test_users_made_another_way_get_no_admin(db, password_file):
    factories.manager()
    output = offer()
    assert not User.objects.filter(username="admin").exists() and not password_file.exists()
    assert "manage.py changepassword" in output


def test_a_file_left_by_an_older_run_is_made_owner_only(db, password_file):
    password_file.parent.mkdir()
    password_file.write_text("stale\n")
    password_file.chmod(0o644)
    offer()
    assert password_file.stat().st_mode & 0o777 == 0o600
    assert User.objects.get(username="admin").check_password(password_file.read_text().strip())
