def test_it_lists_nothing_when_no_webhook_exists(api):
    response = api.call("GET", "/webhooks")
    assert response.status_code == 200
    assert response.json() == {"data": {"items": []}, "message": "Success", "reference_id": "1.1.200"}


def test_it_lists_only_the_webhook_of_the_keys_environment(api):
    api.create("sandbox", "https://sandbox.example.com/hook")
    api.create("production", "https://prod.example.com/hook")

    sandbox_items = api.call("GET", "/webhooks", environment="sandbox").json()["data"]["items"]
    production_items = api.call("GET", "/webhooks", environment="production").json()["data"]["items"]

    assert [i["url"] for i in sandbox_items] == ["https://sandbox.example.com/hook"]
    assert [i["url"] for i in production_items] == ["https://prod.example.com/hook"]
    assert set(sandbox_items[0]) >= {"environment", "url", "secret", "created_at", "updated_at"}
    assert sandbox_items[0]["disabled"] is False
    assert sandbox_items[0]["environment"] == "sandbox"
    assert sandbox_items[0]["created_at"].endswith("Z")
