"""Generate Key, Regenerate, Delete and Reveal: the API call each makes, and who may make it."""

import pytest

from management_api.models import Webhook
from tests.webhooks_app.conftest import HX


def test_generate_key_shows_the_form(manager_client):
    response = manager_client.get("/webhooks/sandbox/generate", **HX)
    html = response.content.decode()
    assert response["HX-Retarget"] == "#modal-content"
    assert '<label for="id_url">URL</label>' in html and ">Continue</button>" in html
    assert "<html" not in html


def test_generate_key_without_javascript_is_a_page(manager_client):
    html = manager_client.get("/webhooks/sandbox/generate").content.decode()
    assert "<html" in html and "Generate Sandbox Key" in html


def test_generate_key_shows_the_new_secret_once_and_swaps_the_card_behind(manager_client):
    response = manager_client.post("/webhooks/sandbox/generate", {"url": "https://hooks.example.com/a"}, **HX)
    assert response.status_code == 200
    assert response["HX-Retarget"] == "#modal-content" and response["Cache-Control"] == "no-store"
    webhook = Webhook.objects.get(environment="sandbox")
    assert webhook.url == "https://hooks.example.com/a"
    html = response.content.decode()
    assert f'<code class="secret mono" id="new-secret" aria-label="New secret key">{webhook.secret}</code>' in html
    assert '<section class="card" id="card-sandbox"' in html and 'hx-swap-oob="true"' in html
    assert ">Done</a>" in html and ">Copy</button>" in html


def test_generate_key_without_javascript_shows_the_secret_on_a_page(manager_client):
    response = manager_client.post("/webhooks/production/generate", {"url": "https://hooks.example.com/p"})
    webhook = Webhook.objects.get()
    assert webhook.environment == "production"
    html = response.content.decode()
    assert response.status_code == 200 and "<html" in html and webhook.secret in html
    assert 'href="/"' in html and ">Done</a>" in html


@pytest.mark.parametrize(
    "url,message",
    [
        ("", "Enter the URL of your webhook receiver."),
        ("ftp://example.com/", "The URL must start with http:// or https://."),
        ("https://", "The URL has no host name."),  # only the API knows this one
        ("https://user:pw@example.com/", "The URL must not contain a user name or password."),
        ("https://example.com/" + "a" * 2100, "The URL is longer than 2048 characters."),
    ],
)
def test_generate_key_shows_the_error_beside_the_field_and_stores_nothing(manager_client, url, message):
    response = manager_client.post("/webhooks/sandbox/generate", {"url": url}, **HX)
    assert response.status_code == 400
    assert response["HX-Retarget"] == "#modal-content"
    html = response.content.decode()
    assert f'<p class="field-error" id="url-error">{message}</p>' in html
    assert 'aria-invalid="true"' in html
    assert not Webhook.objects.exists()


def test_edit_url_keeps_the_secret(manager_client):
    webhook = Webhook.objects.create(environment="sandbox", url="https://old.example.com/", secret="k" * 43)
    manager_client.post("/webhooks/sandbox/generate", {"url": "https://new.example.com/", "updating": "1"}, **HX)
    webhook.refresh_from_db()
    assert webhook.url == "https://new.example.com/" and webhook.secret == "k" * 43


def test_regenerate_asks_first_naming_the_environment(manager_client):
    Webhook.objects.create(environment="production", url="https://p.example.com/", secret="k" * 43)
    html = manager_client.get("/webhooks/production/regenerate", **HX).content.decode()
    assert "Regenerate the Production secret?" in html
    assert Webhook.objects.get().secret == "k" * 43


def test_regenerate_replaces_the_secret_and_shows_the_new_one_once(manager_client):
    Webhook.objects.create(environment="production", url="https://p.example.com/", secret="k" * 43)
    response = manager_client.post("/webhooks/production/regenerate", **HX)
    new_secret = Webhook.objects.get().secret
    assert new_secret != "k" * 43
    assert response["HX-Retarget"] == "#modal-content" and response["Cache-Control"] == "no-store"
    html = response.content.decode()
    assert "Your regenerated secret key (Production)" in html and f">{new_secret}</code>" in html
    card = (
        '<section class="card" id="card-production" tabindex="-1" aria-labelledby="card-production-title"'
        ' hx-swap-oob="true">'
    )
    assert card in html
    # The card behind shows it masked; only the modal has it whole.
    assert html.count(new_secret) == 1 and new_secret[-4:] in html.split('hx-swap-oob="true"')[1]


def test_reveal_offers_hide(manager_client):
    Webhook.objects.create(environment="sandbox", url="https://s.example.com/", secret="r" * 43)
    html = manager_client.post("/webhooks/sandbox/reveal", **HX).content.decode()
    assert '<span class="secret-box" id="secret-box-sandbox">' in html
    assert 'data-hide-secret="sandbox">Hide</button>' in html


def test_delete_asks_first_then_deletes(manager_client):
    Webhook.objects.create(environment="sandbox", url="https://s.example.com/", secret="k" * 43)
    assert "Delete the Sandbox webhook?" in manager_client.get("/webhooks/sandbox/delete", **HX).content.decode()
    assert Webhook.objects.exists()
    response = manager_client.post("/webhooks/sandbox/delete", **HX)
    assert "No Sandbox webhook yet." in response.content.decode()
    assert not Webhook.objects.exists()


def test_an_api_refusal_is_shown_in_the_modal(manager_client):
    response = manager_client.post("/webhooks/sandbox/regenerate", **HX)
    assert response.status_code == 502
    html = response.content.decode()
    assert "Regenerating the secret failed" in html
    assert "No webhook is configured for sandbox; create one first." in html


def test_reveal_shows_the_whole_secret_to_a_manager(manager_client):
    Webhook.objects.create(environment="sandbox", url="https://s.example.com/", secret="the-whole-secret-" + "z" * 30)
    response = manager_client.post("/webhooks/sandbox/reveal", **HX)
    assert "the-whole-secret-" + "z" * 30 in response.content.decode()
    assert response["Cache-Control"] == "no-store"
    text = manager_client.post("/webhooks/sandbox/copy")
    assert text.content.decode() == "the-whole-secret-" + "z" * 30
    assert text["Cache-Control"] == "no-store"


def test_reveal_is_a_post(manager_client):
    assert manager_client.get("/webhooks/sandbox/reveal").status_code == 405


@pytest.mark.parametrize(
    "method,path",
    [
        ("get", "/webhooks/sandbox/generate"),
        ("post", "/webhooks/sandbox/generate"),
        ("post", "/webhooks/sandbox/test"),
        ("get", "/webhooks/sandbox/regenerate"),
        ("post", "/webhooks/sandbox/regenerate"),
        ("get", "/webhooks/sandbox/delete"),
        ("post", "/webhooks/sandbox/delete"),
        ("post", "/webhooks/sandbox/reveal"),
        ("post", "/webhooks/sandbox/copy"),
        ("post", "/webhooks/sandbox/enable"),
    ],
)
def test_a_viewer_is_refused_every_change(viewer_client, method, path):
    secret = "v" * 43
    Webhook.objects.create(environment="sandbox", url="https://s.example.com/", secret=secret)
    response = getattr(viewer_client, method)(path, {"url": "https://evil.example.com/"})
    assert response.status_code == 403
    assert secret not in response.content.decode()
    webhook = Webhook.objects.get()
    assert (webhook.url, webhook.secret) == ("https://s.example.com/", secret)


def test_a_viewer_refused_over_htmx_gets_the_banner(viewer_client):
    response = viewer_client.post("/webhooks/sandbox/delete", **HX)
    assert response.status_code == 403
    assert response["HX-Retarget"] == "#banner"
    assert "ask an administrator for the manage permission" in response.content.decode()


@pytest.mark.parametrize("path", ["/webhooks/sandbox/generate", "/webhooks/sandbox/delete", "/webhooks/sandbox/reveal"])
def test_anonymous_visitors_are_sent_to_login(client, db, path):
    response = client.post(path, {"url": "https://a.example.com/"})
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert not Webhook.objects.exists()


def test_an_unknown_environment_is_404(manager_client):
    response = manager_client.post("/webhooks/staging/generate", {"url": "https://a.example.com/"})
    assert response.status_code == 404
    assert "There is nothing at this address." in response.content.decode()


def test_changes_need_the_csrf_token(manager):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(manager)
    response = client.post("/webhooks/sandbox/generate", {"url": "https://a.example.com/"})
    assert response.status_code == 403
    assert "security token expired" in response.content.decode()
    assert not Webhook.objects.exists()
