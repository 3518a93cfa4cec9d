import pytest

from management_api.models import Webhook


def test_it_creates_a_webhook_with_a_new_secret(api):
    response = api.call("PUT", "/webhooks/sandbox", {"url": "https://hooks.example.com/autoql"})
    assert response.status_code == 201
    body = response.json()
    assert body["message"] == "Success" and body["reference_id"] == "1.1.201"
    data = body["data"]
    assert data["environment"] == "sandbox"
    assert data["url"] == "https://hooks.example.com/autoql"
    # 32 bytes of randomness, URL-safe base64: 43 printable characters.
    assert len(data["secret"]) >= 43 and data["secret"].isprintable()
    assert Webhook.objects.get(environment="sandbox").secret == data["secret"]


def test_each_environment_gets_its_own_secret(api):
    assert api.create("sandbox")["secret"] != api.create("production")["secret"]


def test_changing_the_url_keeps_the_secret(api):
    created = api.create(url="https://old.example.com/hook")
    response = api.call("PUT", "/webhooks/sandbox", {"url": "https://new.example.com/hook"})
    assert response.status_code == 200
    assert response.json()["reference_id"] == "1.1.200"
    assert response.json()["data"]["secret"] == created["secret"]
    assert Webhook.objects.get().url == "https://new.example.com/hook"
    assert Webhook.objects.count() == 1


@pytest.mark.parametrize(
    "url,fragment",
    [
        ("ftp://files.example.com/hook", "http:// or https://"),
        ("javascript:alert(1)", "http:// or https://"),
        ("hooks.example.com/autoql", "http:// or https://"),
        ("https://", "no host"),
        ("http:///path", "no host"),
        ("", "Enter the URL"),
        ("https://example.com/" + "a" * 2040, "longer than 2048"),
        ("https://exa mple.com/", "spaces"),
        ("https://example.com:99999/", "not valid"),
        ("https://user:pw@example.com/", "user name or password"),
    ],
)
def test_it_refuses_a_bad_url_and_stores_nothing(api, url, fragment):
    response = api.call("PUT", "/webhooks/sandbox", {"url": url})
    assert response.status_code == 400
    body = response.json()
    assert body["reference_id"] == "1.1.400"
    assert fragment in body["errors"]["url"][0]
    assert body["message"].startswith("url: ")
    assert not Webhook.objects.exists()


def test_it_accepts_a_url_of_exactly_2048_characters(api):
    url = "https://example.com/" + "a" * (2048 - len("https://example.com/"))
    assert api.call("PUT", "/webhooks/sandbox", {"url": url}).status_code == 201


@pytest.mark.parametrize("raw", [b"{not json", b"[", b"\xff\xfe", b'"just a string"', b"[1, 2]", b"null"])
def test_it_refuses_a_body_that_is_not_an_object_with_a_url(api, raw):
    response = api.call("PUT", "/webhooks/sandbox", raw=raw)
    assert response.status_code == 400
    assert response.json()["reference_id"] == "1.1.400"
    assert response.json()["message"]
    assert not Webhook.objects.exists()


@pytest.mark.parametrize("body", [{}, {"url": None}, {"url": 42}, {"url": ["https://a.example.com"]}])
def test_it_refuses_a_missing_or_mistyped_url(api, body):
    response = api.call("PUT", "/webhooks/sandbox", body)
    assert response.status_code == 400
    assert "url" in response.json()["errors"]
    assert not Webhook.objects.exists()


def test_a_bad_url_leaves_an_existing_webhook_alone(api):
    created = api.create(url="https://keep.example.com/hook")
    assert api.call("PUT", "/webhooks/sandbox", {"url": "nope"}).status_code == 400
    webhook = Webhook.objects.get()
    assert webhook.url == "https://keep.example.com/hook" and webhook.secret == created["secret"]
