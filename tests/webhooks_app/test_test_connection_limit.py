"""Per-user limit on Test Connection: past it, the portal's banner with 429 and Retry-After."""

from django.contrib.auth.models import Permission, User
from django.test import Client

from management_api.models import Webhook


def manager_client(name: str) -> Client:
    user = User.objects.create_user(name, password="pass-for-" + name)
    user.user_permissions.add(Permission.objects.get(codename="manage_webhooks"))
    client = Client()
    client.force_login(user)
    return client


def test_a_user_past_the_test_connection_limit_gets_429_and_another_user_does_not(db, settings, allow_loopback):
    settings.TEST_CONNECTION_RATE_LIMIT = "2/h"
    Webhook.objects.create(environment="sandbox", url="http://127.0.0.1:9/hook", secret="s" * 43)
    maria, tom = manager_client("maria"), manager_client("tom")
    for _ in range(2):
        assert maria.post("/webhooks/sandbox/test", HTTP_HX_REQUEST="true").status_code == 200
    limited = maria.post("/webhooks/sandbox/test", HTTP_HX_REQUEST="true")
    # The portal's own error shape: its banner, with the API's status and Retry-After.
    assert limited.status_code == 429
    assert int(limited["Retry-After"]) >= 1
    assert limited["HX-Retarget"] == "#banner"
    assert "Too many test connections; try again in a minute." in limited.content.decode()
    assert tom.post("/webhooks/sandbox/test", HTTP_HX_REQUEST="true").status_code == 200
