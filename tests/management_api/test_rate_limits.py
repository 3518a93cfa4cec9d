"""Per-key limits on the management API: 429, Retry-After and the API's error body."""


def test_an_api_key_past_its_limit_gets_429_and_the_other_key_does_not(api, settings):
    settings.API_RATE_LIMIT = "3/h"
    for _ in range(3):
        assert api.call("GET", "/webhooks", environment="sandbox").status_code == 200
    limited = api.call("GET", "/webhooks", environment="sandbox")
    assert limited.status_code == 429
    assert int(limited["Retry-After"]) >= 1
    message = "Too many calls with this API key; try again later."
    assert limited.json() == {"message": message, "reference_id": "1.1.429"}
    assert api.call("GET", "/webhooks", environment="production").status_code == 200
