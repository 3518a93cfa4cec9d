"""The OpenAPI schema, and a bounded schemathesis run over it that must find no 5xx."""

import schemathesis
from django.conf import settings
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from management_api.api import api as ninja_api

PREFIX = "/autoql/management/api/v1/notifications/"

schema = schemathesis.openapi.from_dict(ninja_api.get_openapi_schema(path_prefix=PREFIX)).exclude(
    # Test connection sends a real request to whatever URL the fuzzer stored; its faults are
    # covered with receivers on 127.0.0.1 in test_test_connection.py instead.
    path_regex="/test$",
)


def test_the_schema_is_served_to_signed_in_people(admin_client):
    response = admin_client.get(f"{PREFIX}openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert set(paths) >= {
        f"{PREFIX}webhooks",
        f"{PREFIX}webhooks/{{environment}}",
        f"{PREFIX}webhooks/{{environment}}/secret",
        f"{PREFIX}webhooks/{{environment}}/test",
        f"{PREFIX}webhooks/{{environment}}/logs",
    }
    # This implementation's extensions of the logs
    assert "get" in paths[f"{PREFIX}webhooks/{{environment}}/logs/export"]
    assert "get" in paths[f"{PREFIX}webhooks/{{environment}}/deliveries/{{delivery_id}}"]
    assert set(paths[f"{PREFIX}webhooks/{{environment}}/recover"]) == {"get", "post"}
    assert "get" in paths[f"{PREFIX}webhooks/{{environment}}/stats"]
    logs = paths[f"{PREFIX}webhooks/{{environment}}/logs"]["get"]
    assert {p["name"] for p in logs["parameters"]} >= {"status", "type", "event", "project_id", "delivery_id"}
    limit = next(p for p in logs["parameters"] if p["name"] == "limit")
    assert (limit["schema"]["minimum"], limit["schema"]["maximum"]) == (1, 100)


def test_the_docs_need_a_login(client):
    response = client.get(f"{PREFIX}docs")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@schema.parametrize()
# derandomize: the same examples on every run; database=None: no .hypothesis/ directory in the tree.
@hypothesis_settings(
    max_examples=15, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck)
)
def test_no_input_makes_the_api_fail(case, live_server):
    # A valid key and token, so the fuzzing reaches the body and parameter validation.
    case.query = {**(case.query or {}), "key": settings.AUTOQL_SANDBOX_API_KEY}
    response = case.call(base_url=live_server.url, headers={"Authorization": f"Bearer {settings.AUTOQL_TOKEN}"})
    assert response.status_code < 500, response.text
    assert response.headers["content-type"][0].startswith("application/json"), response.text
    body = response.json()
    assert "reference_id" in body and "message" in body
