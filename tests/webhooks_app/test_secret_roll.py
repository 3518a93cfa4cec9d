"""Rolling a secret from the card: the next secret shown once, Switch now, Cancel roll."""

from datetime import timedelta

import pytest
from django.test import Client

from management_api.models import Webhook
from tests.webhooks_app.conftest import HX, tab_html

CURRENT = "c" * 43
API = "/autoql/management/api/v1/notifications"


@pytest.fixture
def webhook(db) -> Webhook:
    return Webhook.objects.create(environment="sandbox", url="https://s.example.com/", secret=CURRENT)


def test_the_card_offers_a_roll_to_managers_only(manager_client, viewer, webhook):
    assert "Roll secret…" in tab_html(manager_client)
    viewer_client = Client()
    viewer_client.force_login(viewer)
    assert "Roll secret…" not in tab_html(viewer_client)


def test_the_roll_modal_explains_and_offers_the_periods(manager_client, webhook):
    response = manager_client.get("/webhooks/sandbox/roll", **HX)
    html = response.content.decode()
    assert response["HX-Retarget"] == "#modal-content"
    assert "keep being signed with the" in html and "at most 7 days" in html
    for hours, text in [(1, "1 hour"), (24, "24 hours"), (72, "72 hours"), (168, "7 days")]:
        assert f'value="{hours}"' in html and text in html
    assert 'value="24" checked' in html
    assert Webhook.objects.get().next_secret is None


def test_rolling_shows_the_next_secret_once_and_the_card_says_when(manager_client, webhook):
    response = manager_client.post("/webhooks/sandbox/roll", {"expires_in_hours": "72"}, **HX)
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    webhook.refresh_from_db()
    assert webhook.secret == CURRENT and webhook.next_secret
    assert webhook.next_secret_activates_at is not None
    html = response.content.decode()
    assert webhook.next_secret in html and "it is not shown again" in html
    # The card, swapped out of band, shows the pending roll but not the next secret.
    card = html[html.index('id="card-sandbox"') :]
    assert 'hx-swap-oob="true"' in card and "Next secret takes over" in card
    assert webhook.next_secret not in card
    tab = tab_html(manager_client)
    assert "Next secret takes over" in tab and webhook.next_secret not in tab and CURRENT not in tab
    assert webhook.next_secret_activates_at.strftime("%Y-%m-%dT%H:%M:%SZ") in tab
    assert "Switch now" in tab and "Cancel roll" in tab


@pytest.mark.parametrize("hours", ["", "2", "169", "abc"])
def test_a_period_not_offered_is_refused_and_nothing_rolls(manager_client, webhook, hours):
    response = manager_client.post("/webhooks/sandbox/roll", {"expires_in_hours": hours}, **HX)
    assert response.status_code == 400
    assert 'class="field-error"' in response.content.decode()
    assert Webhook.objects.get().next_secret is None


def test_switch_now_asks_first_then_switches(manager_client, webhook):
    manager_client.post("/webhooks/sandbox/roll", {"expires_in_hours": "24"}, **HX)
    next_secret = Webhook.objects.get().next_secret
    assert (
        "Switch to the next Sandbox secret now?"
        in manager_client.get("/webhooks/sandbox/roll/complete", **HX).content.decode()
    )
    assert Webhook.objects.get().secret == CURRENT
    response = manager_client.post("/webhooks/sandbox/roll/complete", **HX)
    assert response["HX-Retarget"] == "#card-sandbox"
    assert "Next secret takes over" not in response.content.decode()
    webhook.refresh_from_db()
    assert (webhook.secret, webhook.next_secret, webhook.next_secret_activates_at) == (next_secret, None, None)


def test_cancel_roll_asks_first_then_keeps_the_current_secret(manager_client, webhook):
    manager_client.post("/webhooks/sandbox/roll", {"expires_in_hours": "24"}, **HX)
    assert (
        "Cancel the Sandbox secret roll?" in manager_client.get("/webhooks/sandbox/roll/cancel", **HX).content.decode()
    )
    assert Webhook.objects.get().next_secret
    response = manager_client.post("/webhooks/sandbox/roll/cancel", **HX)
    assert response["HX-Retarget"] == "#card-sandbox"
    webhook.refresh_from_db()
    assert (webhook.secret, webhook.next_secret, webhook.next_secret_activates_at) == (CURRENT, None, None)


def test_switching_with_no_roll_pending_says_so(manager_client, webhook):
    response = manager_client.post("/webhooks/sandbox/roll/complete", **HX)
    assert response.status_code == 502
    assert "No secret roll is pending for sandbox" in response.content.decode()


@pytest.mark.parametrize(
    "method,path",
    [
        ("get", "/webhooks/sandbox/roll"),
        ("post", "/webhooks/sandbox/roll"),
        ("get", "/webhooks/sandbox/roll/complete"),
        ("post", "/webhooks/sandbox/roll/complete"),
        ("get", "/webhooks/sandbox/roll/cancel"),
        ("post", "/webhooks/sandbox/roll/cancel"),
    ],
)
def test_a_viewer_is_refused(viewer_client, webhook, method, path):
    webhook.start_secret_roll(timedelta(hours=1))
    before = Webhook.objects.values().get()
    response = getattr(viewer_client, method)(path, {"expires_in_hours": "1"})
    assert response.status_code == 403
    assert Webhook.objects.values().get() == before


@pytest.mark.parametrize(
    "path", ["/webhooks/sandbox/roll", "/webhooks/sandbox/roll/complete", "/webhooks/sandbox/roll/cancel"]
)
def test_each_change_needs_the_csrf_token(manager, webhook, path):
    client = Client(enforce_csrf_checks=True)
    client.force_login(manager)
    response = client.post(path, {"expires_in_hours": "1"})
    assert response.status_code == 403
    assert Webhook.objects.get().next_secret is None


def test_no_roll_is_offered_against_an_upstream_that_does_not_report_one(manager_client, settings, httpserver):
    # AutoQL's own webhook object: no next_secret_activates_at, and no roll calls.
    settings.AUTOQL_DOMAIN = httpserver.url_for("").rstrip("/")
    autoql_webhook = {
        "environment": "sandbox",
        "url": "https://s.example.com/",
        "secret": CURRENT,
        "created_at": "2026-11-01T00:00:00Z",
        "updated_at": "2026-11-01T00:00:00Z",
    }
    httpserver.expect_request(f"{API}/webhooks").respond_with_json({"data": {"items": [autoql_webhook]}})
    httpserver.expect_request(f"{API}/webhooks/sandbox/logs").respond_with_json(
        {"data": {"items": [], "pagination": {"offset": 0, "limit": 10, "total_items": 0}}}
    )
    html = tab_html(manager_client)
    assert "Regenerate" in html and "Roll secret" not in html and "Next secret takes over" not in html


def test_the_roll_dialogs_show_the_setting_that_holds_both_secrets(manager_client, webhook):
    form = manager_client.get("/webhooks/sandbox/roll", **HX).content.decode()
    assert 'AUTOQL_WEBHOOK_SECRETS="next,current"' in form and 'href="/integrate/#roll-title"' in form
    shown = manager_client.post("/webhooks/sandbox/roll", {"expires_in_hours": "24"}, **HX).content.decode()
    webhook.refresh_from_db()
    assert f'AUTOQL_WEBHOOK_SECRETS="{webhook.next_secret},$AUTOQL_WEBHOOK_SECRET"' in shown
    # The current secret stays behind Reveal: the setting names its variable instead.
    assert CURRENT not in shown


def test_the_integrate_page_explains_a_roll_with_both_secrets(manager_client, db):
    html = manager_client.get("/integrate/").content.decode()
    roll = html[html.index('id="roll-title"') :]
    assert 'AUTOQL_WEBHOOK_SECRETS="&lt;next secret&gt;,&lt;current secret&gt;"' in roll
