import json
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

API = "/autoql/management/api/v1/notifications"


class ApiClient:
    """Calls the embedded API the way the portal and AutoQL's docs do: key + bearer token."""

    def __init__(self, client: Client) -> None:
        self.client = client

    def key_for(self, environment: str) -> str:
        return {"sandbox": settings.AUTOQL_SANDBOX_API_KEY, "production": settings.AUTOQL_PRODUCTION_API_KEY}[
            environment
        ]

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        key: str | None = None,
        environment: str = "sandbox",
        token: str | None = None,
        query: str = "",
        raw: bytes | None = None,
    ):
        key = self.key_for(environment) if key is None else key
        token = settings.AUTOQL_TOKEN if token is None else token
        url = f"{API}{path}?key={key}{query}"
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        data = raw if raw is not None else (json.dumps(body) if body is not None else "")
        if method in ("GET", "DELETE") and raw is None and body is None:
            data = ""
        return self.client.generic(method, url, data=data, content_type="application/json", headers=headers)

    def create(self, environment: str = "sandbox", url: str = "https://hooks.example.com/autoql"):
        response = self.call("PUT", f"/webhooks/{environment}", {"url": url}, environment=environment)
        assert response.status_code in (200, 201), response.content
        return response.json()["data"]


@pytest.fixture
def api(client, db) -> ApiClient:
    return ApiClient(client)
