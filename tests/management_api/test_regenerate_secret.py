from management_api.models import Webhook


def test_it_replaces_the_secret_and_keeps_the_url(api):
    created = api.create(url="https://hooks.example.com/a")
    response = api.call("PUT", "/webhooks/sandbox/secret", {})
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["secret"] != created["secret"] and len(data["secret"]) >= 43
    assert data["url"] == "https://hooks.example.com/a"
    assert Webhook.objects.get().secret == data["secret"]


def test_it_answers_404_when_no_webhook_is_configured(api):
    response = api.call("PUT", "/webhooks/sandbox/secret", {})
    assert response.status_code == 404
    assert response.json() == {
        "message": "No webhook is configured for sandbox; create one first.",
        "reference_id": "1.1.404",
    }


def test_it_leaves_the_other_environment_alone(api):
    production = api.create("production")
    api.create("sandbox")
    api.call("PUT", "/webhooks/sandbox/secret", {})
    assert Webhook.objects.get(environment="production").secret == production["secret"]
