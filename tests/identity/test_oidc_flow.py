"""OpenID Connect sign-in against the tests' real provider (a separate process on 127.0.0.1),
driven through the test client: the people sign in on the provider's own page."""

import html
import re
from datetime import timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.models import User
from django.contrib.sessions.models import Session
from django.utils import timezone

from audit.models import AuditEvent
from identity.models import ExternalAccount
from identity.oidc import CODE_REFUSED, CREDENTIALS_REFUSED, NOT_COMPLETED, NOT_VERIFIED
from identity.provider import UNREACHABLE
from identity.roles import NO_MAPPED_GROUP
from identity.signin import lockout_sentence
from tests.identity.conftest import MANAGERS, STAFF, VIEWERS, local_path, sign_in_at_provider, sign_in_with_provider
from tests.ports import closed_port

Action = AuditEvent.Action
MANAGE = "webhooks_app.manage_webhooks"


def page_text(response) -> str:
    return response.content.decode().replace("&#x27;", "'")


@pytest.fixture
def olivia(oidc):
    oidc.set_person(
        "olivia", "olivia-pass", [MANAGERS, STAFF], email="olivia@example.com", given_name="Olivia", family_name="Ng"
    )
    return "olivia"


def test_a_first_sign_in_creates_the_user_with_the_mapped_role(client, db, olivia):
    response = sign_in_with_provider(client, "olivia", "olivia-pass")
    assert response.status_code == 302 and response["Location"] == "/"
    user = User.objects.get(username="olivia")
    assert user.has_perm(MANAGE) and user.is_staff and not user.is_superuser
    assert (user.email, user.first_name, user.last_name) == ("olivia@example.com", "Olivia", "Ng")
    assert not user.has_usable_password()
    assert ExternalAccount.objects.get(user=user).provider == "oidc"
    assert client.get("/").status_code == 200


def test_the_sign_in_is_audited_with_the_provider_and_the_groups(client, db, olivia):
    sign_in_with_provider(client, "olivia", "olivia-pass")
    event = AuditEvent.objects.get()
    assert (event.actor, event.action) == ("olivia", Action.SIGNED_IN)
    assert event.detail == "OpenID Connect: manager (group portal-managers); staff (group portal-admins)"


def test_a_group_change_changes_the_role_and_the_name_at_the_next_sign_in(client, db, oidc, olivia):
    sign_in_with_provider(client, "olivia", "olivia-pass")
    client.post("/accounts/logout/")
    oidc.set_person("olivia", "olivia-pass", [VIEWERS], email="olivia.ng@example.com", given_name="Liv")
    assert sign_in_with_provider(client, "olivia", "olivia-pass").status_code == 302
    user = User.objects.get(username="olivia")
    assert not user.has_perm(MANAGE) and not user.is_staff
    assert (user.email, user.first_name) == ("olivia.ng@example.com", "Liv")
    latest = AuditEvent.objects.filter(action=Action.SIGNED_IN).latest("id")
    assert latest.detail == "OpenID Connect: viewer (group portal-viewers)"


def test_someone_in_no_mapped_group_is_refused_and_nothing_is_stored(client, db, oidc):
    oidc.set_person("carl", "carl-pass", ["cafeteria"])
    response = sign_in_with_provider(client, "carl", "carl-pass")
    assert response.status_code == 403
    assert NO_MAPPED_GROUP in page_text(response)
    assert not User.objects.exists() and "_auth_user_id" not in client.session
    event = AuditEvent.objects.get()
    assert (event.actor, event.action) == ("carl", Action.SIGN_IN_FAILED)
    assert event.detail == "OpenID Connect: in no mapped group (groups: cafeteria)"


def test_someone_taken_out_of_every_mapped_group_is_refused_and_loses_the_role(client, db, oidc, olivia):
    sign_in_with_provider(client, "olivia", "olivia-pass")
    client.post("/accounts/logout/")
    oidc.set_person("olivia", "olivia-pass", [])
    response = sign_in_with_provider(client, "olivia", "olivia-pass")
    assert response.status_code == 403 and NO_MAPPED_GROUP in page_text(response)
    user = User.objects.get(username="olivia")
    assert not user.has_perm(MANAGE) and not user.is_staff


def test_a_local_account_of_the_same_name_is_never_taken_over(client, db, oidc):
    User.objects.create_superuser("admin", password="local-admin-pass")
    oidc.set_person("admin", "provider-pass", [MANAGERS])
    response = sign_in_with_provider(client, "admin", "provider-pass")
    assert response.status_code == 403
    assert "An account named admin already exists in this portal" in page_text(response)
    assert "_auth_user_id" not in client.session and not ExternalAccount.objects.exists()


def test_a_disabled_account_is_refused(client, db, olivia):
    sign_in_with_provider(client, "olivia", "olivia-pass")
    client.post("/accounts/logout/")
    User.objects.filter(username="olivia").update(is_active=False)
    response = sign_in_with_provider(client, "olivia", "olivia-pass")
    assert response.status_code == 403 and "Your account in this portal is disabled" in page_text(response)
    assert "_auth_user_id" not in client.session


def test_a_locked_out_username_is_refused_at_single_sign_on_too(client, db, olivia):
    for _ in range(5):
        client.post("/accounts/login/", {"username": "olivia", "password": "a-wrong-guess"})
    response = sign_in_with_provider(client, "olivia", "olivia-pass")
    assert response.status_code == 429 and lockout_sentence() in page_text(response)
    assert "_auth_user_id" not in client.session


def test_an_idle_single_sign_on_session_ends_like_any_other(client, db, olivia):
    sign_in_with_provider(client, "olivia", "olivia-pass")
    Session.objects.filter(session_key=client.session.session_key).update(expire_date=timezone.now() - timedelta(1))
    assert client.get("/").status_code == 302


def test_a_wrong_client_secret_gives_a_clear_page(client, db, settings, olivia):
    settings.OIDC_CLIENT_SECRET = "not-the-secret"
    response = sign_in_with_provider(client, "olivia", "olivia-pass")
    assert response.status_code == 502 and CREDENTIALS_REFUSED in page_text(response)
    assert "not-the-secret" not in page_text(response)
    assert "_auth_user_id" not in client.session and not User.objects.exists()
    event = AuditEvent.objects.get()
    assert event.action == Action.SIGN_IN_FAILED and "refused the client credentials" in event.detail


def test_an_unreachable_provider_gives_a_clear_page(client, db, settings, oidc):
    with closed_port() as port:
        settings.OIDC_ISSUER = f"http://127.0.0.1:{port}/o"
        response = client.get("/accounts/oidc/start/")
    assert response.status_code == 502 and UNREACHABLE in page_text(response)
    assert AuditEvent.objects.get().action == Action.SIGN_IN_FAILED


def test_a_provider_gone_between_the_button_and_the_callback_gives_a_clear_page(client, db, settings, olivia):
    start = client.get("/accounts/oidc/start/")
    callback = sign_in_at_provider(start["Location"], "olivia", "olivia-pass")
    with closed_port() as port:
        # The discovery document still names the provider's endpoints, now at a closed port.
        settings.OIDC_ISSUER = f"http://127.0.0.1:{port}/o"
        response = client.get(local_path(callback))
    assert response.status_code == 502 and UNREACHABLE in page_text(response)
    assert "_auth_user_id" not in client.session


def test_a_tampered_state_is_refused(client, db, olivia):
    start = client.get("/accounts/oidc/start/")
    callback = urlsplit(sign_in_at_provider(start["Location"], "olivia", "olivia-pass"))
    query = parse_qs(callback.query)
    response = client.get(callback.path + "?" + urlencode({"code": query["code"][0], "state": "forged-state"}))
    assert response.status_code == 400 and NOT_VERIFIED in page_text(response)
    assert "_auth_user_id" not in client.session and not User.objects.exists()


def test_a_callback_without_a_sign_in_under_way_is_refused(client, db, olivia):
    response = client.get("/accounts/oidc/callback/?code=abc&state=xyz")
    assert response.status_code == 400 and NOT_COMPLETED in page_text(response)


def test_a_tampered_nonce_is_refused(client, db, olivia):
    start = client.get("/accounts/oidc/start/")
    authorize = urlsplit(start["Location"])
    query = {name: values[0] for name, values in parse_qs(authorize.query).items()}
    # The provider puts this nonce in the ID token; the session expects the one it sent.
    query["nonce"] = "a-nonce-the-portal-never-sent"
    tampered = authorize._replace(query=urlencode(query)).geturl()
    response = client.get(local_path(sign_in_at_provider(tampered, "olivia", "olivia-pass")))
    assert response.status_code == 400 and NOT_VERIFIED in page_text(response)
    assert "_auth_user_id" not in client.session and not User.objects.exists()


def test_a_used_code_is_refused_in_words(client, db, olivia):
    start = client.get("/accounts/oidc/start/")
    callback = local_path(sign_in_at_provider(start["Location"], "olivia", "olivia-pass"))
    assert client.get(callback).status_code == 302
    client.post("/accounts/logout/")
    # The same callback again: the state is gone from the session, so it never reaches the provider.
    response = client.get(callback)
    assert response.status_code == 400 and NOT_COMPLETED in page_text(response)


def test_the_provider_refusing_the_code_says_to_start_again(client, db, olivia):
    start = client.get("/accounts/oidc/start/")
    callback = urlsplit(sign_in_at_provider(start["Location"], "olivia", "olivia-pass"))
    query = parse_qs(callback.query)
    response = client.get(callback.path + "?" + urlencode({"code": "not-a-code", "state": query["state"][0]}))
    assert response.status_code == 403 and CODE_REFUSED in page_text(response)


def test_a_person_cancelling_at_the_provider_is_told_so(client, db, olivia):
    start = client.get("/accounts/oidc/start/")
    state = parse_qs(urlsplit(start["Location"]).query)["state"][0]
    response = client.get("/accounts/oidc/callback/?" + urlencode({"error": "access_denied", "state": state}))
    assert response.status_code == 400 and NOT_COMPLETED in page_text(response)


def test_sign_out_ends_the_providers_session_too(client, db, oidc, olivia):
    sign_in_with_provider(client, "olivia", "olivia-pass")
    response = client.post("/accounts/logout/")
    assert response.status_code == 200 and "_auth_user_id" not in client.session
    # A page that moves on to the provider's sign-out at once, with a link for the person too.
    refresh = re.search(r'<meta http-equiv="refresh" content="0; url=([^"]+)">', response.content.decode())
    assert refresh is not None
    end_session = urlsplit(html.unescape(refresh.group(1)))
    assert f'href="{refresh.group(1)}"' in response.content.decode()
    assert f"{end_session.scheme}://{end_session.netloc}{end_session.path}" == f"{oidc.url}/o/logout/"
    query = parse_qs(end_session.query)
    assert query["post_logout_redirect_uri"] == ["http://testserver/accounts/login/"]
    assert query["client_id"] == [oidc.client_id] and query["id_token_hint"]
    assert AuditEvent.objects.filter(action=Action.SIGNED_OUT, actor="olivia").exists()


def test_a_local_accounts_sign_out_stays_in_the_portal(client, db, oidc):
    User.objects.create_user("alice", password="alice-right-pass")
    client.post("/accounts/login/", {"username": "alice", "password": "alice-right-pass"})
    assert client.post("/accounts/logout/")["Location"] == "/accounts/login/"


def test_failed_single_sign_ons_of_a_person_count_toward_the_lockout(client, db, oidc):
    oidc.set_person("carl", "carl-pass", ["cafeteria"])
    sign_in_with_provider(client, "carl", "carl-pass")
    assert AccessAttempt.objects.get(username="carl").failures_since_start == 1


def test_a_refused_callbacks_authorization_code_is_not_stored(client, db, oidc):
    oidc.set_person("carl", "carl-pass", ["cafeteria"])
    sign_in_with_provider(client, "carl", "carl-pass")
    attempt = AccessAttempt.objects.get(username="carl")
    assert "code=********************" in attempt.get_data and "state=" in attempt.get_data


def test_a_locked_out_name_signing_on_for_the_first_time_leaves_no_user_behind(client, db, oidc):
    oidc.set_person("newcomer", "newcomer-pass", [VIEWERS])
    for _ in range(5):
        client.post("/accounts/login/", {"username": "newcomer", "password": "a-wrong-guess"})
    response = sign_in_with_provider(client, "newcomer", "newcomer-pass")
    assert response.status_code == 429
    assert not User.objects.filter(username="newcomer").exists() and not ExternalAccount.objects.exists()
