"""Sign-ins, failed sign-ins, lockouts and sign-outs, each recorded once, never a password."""

import logging

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.models import User
from django.test import Client

from audit.models import AuditEvent
from tests.audit.conftest import ADDRESS, only_event

Action = AuditEvent.Action
RIGHT_PASSWORD = "alice-right-pass-9Zq"
WRONG_PASSWORD = "a-wrong-guess-4Kx"


@pytest.fixture
def alice(db) -> User:
    return User.objects.create_user("alice", password=RIGHT_PASSWORD)


@pytest.fixture
def browser() -> Client:
    return Client(REMOTE_ADDR=ADDRESS)


def sign_in(client: Client, username: str, password: str):
    return client.post("/accounts/login/", {"username": username, "password": password})


def recorded() -> list[tuple[str, str, str | None]]:
    return [(e.actor, e.action, e.address) for e in AuditEvent.objects.order_by("id")]


def assert_no_password() -> None:
    for event in AuditEvent.objects.all():
        for value in (event.actor, event.detail):
            assert RIGHT_PASSWORD not in value and WRONG_PASSWORD not in value
    for attempt in AccessAttempt.objects.all():
        assert RIGHT_PASSWORD not in attempt.username and WRONG_PASSWORD not in attempt.username


def test_a_sign_in_is_recorded(browser, alice):
    assert sign_in(browser, "alice", RIGHT_PASSWORD).status_code == 302
    event = only_event()
    assert (event.actor, event.action, event.environment, event.address) == ("alice", Action.SIGNED_IN, "", ADDRESS)
    assert_no_password()


def test_a_wrong_password_is_recorded_with_the_username_only(browser, alice):
    assert sign_in(browser, "alice", WRONG_PASSWORD).status_code == 200
    event = only_event()
    assert (event.actor, event.action, event.address) == ("alice", Action.SIGN_IN_FAILED, ADDRESS)
    assert event.detail == "Wrong username or password"
    assert_no_password()


def test_a_username_that_names_no_user_is_recorded_as_unknown(browser, db):
    sign_in(browser, "mallory", WRONG_PASSWORD)
    assert recorded() == [("unknown user", Action.SIGN_IN_FAILED, ADDRESS)]


def test_a_password_typed_in_the_username_box_is_kept_nowhere(browser, alice, caplog):
    caplog.set_level(logging.DEBUG)
    assert sign_in(browser, RIGHT_PASSWORD, RIGHT_PASSWORD).status_code == 200
    assert recorded() == [("unknown user", Action.SIGN_IN_FAILED, ADDRESS)]
    assert_no_password()
    # Nor in django-axes' record of the attempt, which the admin shows, nor in the process log.
    [attempt] = AccessAttempt.objects.all()
    assert attempt.username == "unknown user"
    assert RIGHT_PASSWORD not in f"{attempt.get_data} {attempt.post_data}"
    assert caplog.records and RIGHT_PASSWORD not in caplog.text


def test_usernames_that_name_no_user_are_locked_out_together_and_recorded_as_unknown(browser, alice):
    for guess in range(5):
        sign_in(browser, f"{WRONG_PASSWORD}-{guess}", WRONG_PASSWORD)
    assert recorded() == [("unknown user", Action.SIGN_IN_FAILED, ADDRESS)] * 4 + [
        ("unknown user", Action.LOCKED_OUT, ADDRESS)
    ]
    assert sign_in(browser, "yet-another-guess", WRONG_PASSWORD).status_code == 429
    assert recorded()[5:] == [("unknown user", Action.LOCKED_OUT, ADDRESS)]
    assert_no_password()
    # A real username from the same address is counted apart.
    assert sign_in(browser, "alice", RIGHT_PASSWORD).status_code == 302


def test_the_lockout_is_recorded_once_per_attempt(browser, alice):
    for _ in range(4):
        sign_in(browser, "alice", WRONG_PASSWORD)
    assert recorded() == [("alice", Action.SIGN_IN_FAILED, ADDRESS)] * 4
    # The fifth wrong password locks the account: that attempt is the lockout.
    sign_in(browser, "alice", WRONG_PASSWORD)
    assert recorded()[4:] == [("alice", Action.LOCKED_OUT, ADDRESS)]
    # Refused while locked, even with the right password: one lockout event more, no sign-in.
    assert sign_in(browser, "alice", RIGHT_PASSWORD).status_code == 429
    assert recorded()[5:] == [("alice", Action.LOCKED_OUT, ADDRESS)]
    assert_no_password()


def test_a_sign_out_is_recorded(browser, alice):
    sign_in(browser, "alice", RIGHT_PASSWORD)
    browser.post("/accounts/logout/")
    assert recorded() == [("alice", Action.SIGNED_IN, ADDRESS), ("alice", Action.SIGNED_OUT, ADDRESS)]


def test_a_sign_out_without_a_session_records_nothing(browser, db):
    browser.post("/accounts/logout/")
    assert not AuditEvent.objects.exists()
