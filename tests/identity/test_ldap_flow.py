"""LDAP sign-in against the tests' real slapd (its own process on 127.0.0.1), through the sign-in
page's password form."""

import ldap
import pytest
from axes.models import AccessAttempt
from django.contrib.auth.models import User

from audit.models import AuditEvent
from audit.signals import UNKNOWN_USER
from identity.directory import UNREACHABLE
from identity.roles import NO_MAPPED_GROUP
from tests.identity.conftest import MANAGERS, VIEWERS
from tests.identity.servers import GROUPS, PEOPLE, ROOT_DN
from tests.ports import closed_port

Action = AuditEvent.Action
MANAGE = "webhooks_app.manage_webhooks"
WRONG = "Please enter a correct username and password"
WRONG_DETAIL = "Wrong username or password"


def sign_in(client, username: str, password: str):
    return client.post("/accounts/login/", {"username": username, "password": password})


def page_text(response) -> str:
    return response.content.decode().replace("&#x27;", "'")


@pytest.fixture
def membership(slapd):
    """Adds or removes someone from a group of the running directory, as its administrator would."""
    connection = ldap.initialize(slapd.uri)
    connection.simple_bind_s(ROOT_DN, slapd.root_password)
    changed = []

    def change(operation: int, group: str, uid: str) -> None:
        connection.modify_s(f"cn={group},{GROUPS}", [(operation, "member", [f"uid={uid},{PEOPLE}".encode()])])
        changed.append((operation, group, uid))

    yield change
    for operation, group, uid in reversed(changed):
        undo = ldap.MOD_DELETE if operation == ldap.MOD_ADD else ldap.MOD_ADD
        connection.modify_s(f"cn={group},{GROUPS}", [(undo, "member", [f"uid={uid},{PEOPLE}".encode()])])
    connection.unbind_s()


def test_a_directory_password_signs_in_with_the_mapped_role(client, db, ldap_directory):
    response = sign_in(client, "lara", "lara-directory-pass")
    assert response.status_code == 302
    user = User.objects.get(username="lara")
    assert user.has_perm(MANAGE) and user.is_staff and not user.is_superuser
    assert (user.email, user.first_name, user.last_name) == ("lara@example.com", "Lara", "Directory")
    assert not user.has_usable_password()
    event = AuditEvent.objects.get()
    assert (event.actor, event.action) == ("lara", Action.SIGNED_IN)
    assert event.detail == "LDAP directory: manager (group portal-managers); staff (group portal-admins)"


def test_a_viewer_of_the_directory_is_a_viewer(client, db, ldap_directory):
    assert sign_in(client, "vince", "vince-directory-pass").status_code == 302
    user = User.objects.get(username="vince")
    assert not user.has_perm(MANAGE) and not user.is_staff


def test_a_wrong_directory_password_is_refused_and_counts_toward_the_lockout(client, db, ldap_directory):
    response = sign_in(client, "lara", "a-wrong-guess")
    assert response.status_code == 200 and WRONG in page_text(response)
    assert not User.objects.exists() and "_auth_user_id" not in client.session
    # "lara" is typed and names no user of the portal yet: it could be a password in the wrong box.
    assert AccessAttempt.objects.get(username=UNKNOWN_USER).failures_since_start == 1
    assert (AuditEvent.objects.get().actor, AuditEvent.objects.get().detail) == (UNKNOWN_USER, WRONG_DETAIL)


def test_someone_in_no_mapped_group_is_refused_in_words_and_nothing_is_stored(client, db, ldap_directory):
    response = sign_in(client, "nora", "nora-directory-pass")
    assert response.status_code == 200 and NO_MAPPED_GROUP in page_text(response)
    assert not User.objects.exists() and "_auth_user_id" not in client.session
    event = AuditEvent.objects.get()
    assert (event.actor, event.action) == ("nora", Action.SIGN_IN_FAILED)
    assert event.detail == "LDAP directory: in no mapped group (groups: cafeteria)"


def test_a_group_change_in_the_directory_changes_the_role_at_the_next_sign_in(client, db, ldap_directory, membership):
    sign_in(client, "vince", "vince-directory-pass")
    assert not User.objects.get(username="vince").has_perm(MANAGE)
    client.post("/accounts/logout/")
    membership(ldap.MOD_ADD, MANAGERS, "vince")
    sign_in(client, "vince", "vince-directory-pass")
    assert User.objects.get(username="vince").has_perm(MANAGE)
    client.post("/accounts/logout/")
    membership(ldap.MOD_DELETE, VIEWERS, "vince")
    membership(ldap.MOD_DELETE, MANAGERS, "vince")
    response = sign_in(client, "vince", "vince-directory-pass")
    assert NO_MAPPED_GROUP in page_text(response)
    assert not User.objects.get(username="vince").has_perm(MANAGE)


def test_a_directory_that_is_down_gives_a_clear_message(client, db, settings, ldap_directory):
    with closed_port() as port:
        settings.LDAP_SERVER_URI = f"ldap://127.0.0.1:{port}"
        response = sign_in(client, "lara", "lara-directory-pass")
    assert response.status_code == 200 and UNREACHABLE in page_text(response)
    assert WRONG not in page_text(response) and "_auth_user_id" not in client.session
    # It counts as a failed sign-in: a local password cannot be guessed without limit meanwhile.
    assert AccessAttempt.objects.get(username=UNKNOWN_USER).failures_since_start == 1
    assert AuditEvent.objects.get().detail == "LDAP directory: the directory could not be reached (SERVER_DOWN)"


def test_a_local_account_signs_in_while_the_directory_is_down(client, db, settings, ldap_directory):
    User.objects.create_superuser("admin", password="local-admin-pass")
    with closed_port() as port:
        settings.LDAP_SERVER_URI = f"ldap://127.0.0.1:{port}"
        assert sign_in(client, "admin", "local-admin-pass").status_code == 302


def test_a_directory_person_cannot_take_over_a_local_account_of_the_same_name(client, db, ldap_directory):
    User.objects.create_user("lara", password="the-local-laras-pass")
    response = sign_in(client, "lara", "lara-directory-pass")
    assert "An account named lara already exists in this portal" in page_text(response)
    assert "_auth_user_id" not in client.session
    assert not User.objects.get(username="lara").has_perm(MANAGE)


def test_start_tls_with_the_directorys_ca_signs_in(client, db, settings, ldap_directory):
    settings.LDAP_START_TLS = True
    settings.LDAP_CA_FILE = str(ldap_directory.ca_file)
    assert sign_in(client, "lara", "lara-directory-pass").status_code == 302


def test_start_tls_with_an_untrusted_certificate_is_refused_in_words(client, db, settings, ldap_directory):
    settings.LDAP_START_TLS = True
    response = sign_in(client, "lara", "lara-directory-pass")
    assert response.status_code == 200 and UNREACHABLE in page_text(response)
    assert "_auth_user_id" not in client.session
