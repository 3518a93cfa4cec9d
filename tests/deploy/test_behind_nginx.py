"""Behind a real nginx (Debian's, configured by deploy/nginx/portal.conf): one client address for
the sign-in lockout, the audit trail and the rate limits, taken from X-Forwarded-For only because
the request comes from the proxy named in TRUSTED_PROXIES."""

import re

import pytest
from django.contrib.auth.models import User

from audit.models import AuditEvent
from tests.instances import web_node
from tests.nginx import client_from, nginx_in_front

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "correct-horse-battery-1"


@pytest.fixture
def proxy(tmp_path):
    node_env = {"TRUSTED_PROXIES": "127.0.0.1/32", "BEHIND_TLS_PROXY": "true", "AXES_FAILURE_LIMIT": "5"}
    with web_node(tmp_path / "node.log", **node_env) as port, nginx_in_front(tmp_path / "nginx", [port]) as proxy:
        yield proxy


def sign_in(session, proxy, username: str, password: str, forwarded_for: str | None = None):
    login = f"{proxy.url}/accounts/login/"
    page = session.get(login, timeout=30)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert token, page.text[:500]
    headers = {"Referer": login}
    if forwarded_for:
        headers["X-Forwarded-For"] = forwarded_for
    return session.post(
        login,
        data={"csrfmiddlewaretoken": token.group(1), "username": username, "password": password},
        headers=headers,
        allow_redirects=False,
        timeout=30,
    )


def test_five_wrong_passwords_lock_out_one_client_and_not_the_user_everywhere(proxy):
    User.objects.create_user("alice", password=PASSWORD)
    guesser, colleague = client_from("127.0.0.2", proxy), client_from("127.0.0.3", proxy)

    for _ in range(4):
        # The guesser also claims to be its colleague: a client's own X-Forwarded-For names nobody.
        refused = sign_in(guesser, proxy, "alice", "wrong-password", forwarded_for="127.0.0.3")
        assert refused.status_code == 200 and "Please enter a correct username and password" in refused.text
    # The fifth locks this client out, and then even the right password is refused here.
    assert sign_in(guesser, proxy, "alice", "wrong-password", forwarded_for="127.0.0.3").status_code == 429
    assert sign_in(guesser, proxy, "alice", PASSWORD).status_code == 429

    signed_in = sign_in(colleague, proxy, "alice", PASSWORD)
    assert signed_in.status_code == 302 and signed_in.headers["location"] == "/"

    failures = AuditEvent.objects.filter(action=AuditEvent.Action.SIGN_IN_FAILED)
    assert failures.count() == 4 and set(failures.values_list("address", flat=True)) == {"127.0.0.2"}
    lockouts = AuditEvent.objects.filter(action=AuditEvent.Action.LOCKED_OUT)
    assert lockouts.exists() and set(lockouts.values_list("address", flat=True)) == {"127.0.0.2"}
    sign_in_event = AuditEvent.objects.get(action=AuditEvent.Action.SIGNED_IN)
    assert (sign_in_event.actor, sign_in_event.address) == ("alice", "127.0.0.3")


def test_static_files_come_from_disk_and_pages_from_the_nodes(proxy):
    session = client_from("127.0.0.2", proxy)
    assert session.get(f"{proxy.url}/static/portal/portal.css", timeout=30).status_code == 200
    page = session.get(f"{proxy.url}/accounts/login/", timeout=30)
    assert page.status_code == 200 and page.headers["Strict-Transport-Security"].startswith("max-age=")
