"""Signing in: lockout after wrong passwords, idle sessions, password reset only with email."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.models import User
from django.contrib.sessions.models import Session
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from portal.middleware import SESSION_REFRESH_SECONDS, SESSION_REFRESHED_AT
from tests.portal.test_settings import read_setting

LOCKOUT = "Too many failed sign-ins: this account is locked for 15 minutes. Ask an administrator to unlock it sooner."
ASK_AN_ADMINISTRATOR = "Forgot your password? Ask an administrator."


def sign_in(client, username: str, password: str):
    return client.post("/accounts/login/", {"username": username, "password": password})


@pytest.fixture
def alice(db) -> User:
    return User.objects.create_user("alice", email="alice@example.com", password="alice-right-pass")


def test_wrong_passwords_below_the_limit_are_refused_without_a_lockout(client, alice):
    for _ in range(4):
        response = sign_in(client, "alice", "wrong")
        assert response.status_code == 200
        assert "Please enter a correct username and password" in response.content.decode()
        assert LOCKOUT not in response.content.decode()
    assert sign_in(client, "alice", "alice-right-pass").status_code == 302


def test_five_wrong_passwords_lock_the_account_even_against_the_right_one(client, alice):
    for _ in range(5):
        sign_in(client, "alice", "wrong")
    response = sign_in(client, "alice", "alice-right-pass")
    assert response.status_code == 429
    html = response.content.decode()
    assert LOCKOUT in html
    # The portal's own sign-in page, with the username kept, not django-axes' default text.
    assert 'class="panel narrow login"' in html and 'value="alice"' in html
    assert "_auth_user_id" not in client.session
    assert client.get("/").status_code == 302


def test_a_locked_account_leaves_other_users_signing_in(client, alice):
    User.objects.create_user("bob", password="bob-right-pass")
    for _ in range(5):
        sign_in(client, "alice", "wrong")
    assert sign_in(client, "alice", "alice-right-pass").status_code == 429
    response = sign_in(client, "bob", "bob-right-pass")
    assert response.status_code == 302
    assert client.get("/").status_code == 200


def test_lockout_limit_and_time_come_from_the_environment():
    assert read_setting("AXES_FAILURE_LIMIT", DJANGO_SETTINGS_MODULE="portal.settings") == "5"
    assert read_setting("AXES_FAILURE_LIMIT", DJANGO_SETTINGS_MODULE="portal.settings", AXES_FAILURE_LIMIT="3") == "3"
    assert read_setting("AXES_COOLOFF_TIME", DJANGO_SETTINGS_MODULE="portal.settings") == "0:15:00"
    assert read_setting("AXES_COOLOFF_TIME", DJANGO_SETTINGS_MODULE="portal.settings", AXES_COOLOFF_MINUTES="2") == (
        "0:02:00"
    )


def test_every_request_moves_the_end_of_an_idle_session_forward(client, alice):
    client.force_login(alice)
    session = Session.objects.get(session_key=client.session.session_key)
    Session.objects.filter(pk=session.pk).update(expire_date=timezone.now() + timedelta(minutes=1))
    assert client.get("/").status_code == 200
    expire_date = Session.objects.get(pk=session.pk).expire_date
    assert expire_date > timezone.now() + timedelta(minutes=59)


def test_the_end_moves_forward_at_most_once_a_minute_so_a_page_view_need_not_write(client, alice):
    client.force_login(alice)
    assert client.get("/").status_code == 200
    session = Session.objects.get(session_key=client.session.session_key)
    soon = timezone.now() + timedelta(minutes=30)
    Session.objects.filter(pk=session.pk).update(expire_date=soon)
    # Within the minute after the last move: the session is read, not written.
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/").status_code == 200
    assert not [q for q in queries.captured_queries if "django_session" in q["sql"] and "UPDATE" in q["sql"]]
    assert Session.objects.get(pk=session.pk).expire_date == soon
    # A minute on (the time of the last move, put back): the end moves forward again.
    stored = client.session
    stored[SESSION_REFRESHED_AT] -= SESSION_REFRESH_SECONDS
    stored.save()
    assert client.get("/").status_code == 200
    assert Session.objects.get(pk=session.pk).expire_date > timezone.now() + timedelta(minutes=59)


def test_an_api_call_with_a_session_cookie_does_not_write_the_session(client, alice):
    client.force_login(alice)
    with CaptureQueriesContext(connection) as queries:
        client.get("/autoql/management/api/v1/notifications/webhooks?key=x")
    assert not [q for q in queries.captured_queries if "django_session" in q["sql"]]


def test_an_idle_session_ends_after_session_idle_minutes():
    assert read_setting("SESSION_COOKIE_AGE", DJANGO_SETTINGS_MODULE="portal.settings") == "3600"
    assert read_setting("SESSION_COOKIE_AGE", DJANGO_SETTINGS_MODULE="portal.settings", SESSION_IDLE_MINUTES="5") == (
        "300"
    )


RESET_PAGES = ["/accounts/password_reset/", "/accounts/password_reset/done/", "/accounts/reset/done/"]


@pytest.mark.parametrize("path", RESET_PAGES)
def test_without_email_the_reset_pages_do_not_exist(client, db, settings, path):
    settings.EMAIL_HOST = ""
    assert client.get(path).status_code == 404


def test_without_email_the_sign_in_page_says_to_ask_an_administrator(client, db, settings):
    settings.EMAIL_HOST = ""
    html = client.get("/accounts/login/").content.decode()
    assert ASK_AN_ADMINISTRATOR in html
    assert "/accounts/password_reset/" not in html


def test_with_email_the_sign_in_page_links_the_reset_and_it_sends_mail(client, alice, settings):
    settings.EMAIL_HOST = "mail.example.com"
    html = client.get("/accounts/login/").content.decode()
    assert 'href="/accounts/password_reset/"' in html and ASK_AN_ADMINISTRATOR not in html
    assert client.get("/accounts/password_reset/").status_code == 200
    response = client.post("/accounts/password_reset/", {"email": "alice@example.com"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["alice@example.com"]


def test_email_url_configures_the_mail_server():
    assert read_setting("EMAIL_HOST", DJANGO_SETTINGS_MODULE="portal.settings") == ""
    assert (
        read_setting(
            "EMAIL_HOST", DJANGO_SETTINGS_MODULE="portal.settings", EMAIL_URL="smtp+tls://u:p@mail.example.com:587"
        )
        == "mail.example.com"
    )


SIGN_IN_PROBES = {
    "NUL in the username": ({"username": "ali\x00ce", "password": "x"}, {}, 400),
    "NUL in next": ({"username": "alice", "password": "wrong", "next": "/\x00"}, {}, 400),
    "NUL in the user agent": ({"username": "alice", "password": "wrong"}, {"HTTP_USER_AGENT": "probe\x00"}, 400),
    "invalid UTF-8 in the username": ({"username": b"\xed\xa0\x80", "password": "x"}, {}, 200),
}


@pytest.mark.parametrize("data,headers,status", SIGN_IN_PROBES.values(), ids=SIGN_IN_PROBES.keys())
def test_sign_in_input_no_database_stores_is_refused(client, alice, data, headers, status):
    """django-axes stores the form and headers of a failed sign-in; PostgreSQL refuses NUL in text."""
    response = client.post("/accounts/login/", data, **headers)
    assert response.status_code == status
    assert "_auth_user_id" not in client.session
    if status == 400:
        assert "must not contain the NUL character" in response.content.decode()
        assert not AccessAttempt.objects.exists()
