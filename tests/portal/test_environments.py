"""One list of environments: a third one is one entry of WEBHOOK_ENVIRONMENTS plus its API key,
and every surface follows (the API, the tab, the worker, the metrics, the activity filter)."""

import pytest
from django.conf import settings as django_settings

from management_api import delivery
from management_api.alerts import data_alert_payload
from management_api.models import WebhookLog
from tests import factories
from tests.management_api.conftest import API
from tests.receiver import VerifyingReceiver
from tests.webhooks_app.conftest import tab_html

STAGING_KEY = "staging-key-for-tests-" + "x" * 20

pytestmark = pytest.mark.usefixtures("allow_loopback")


@pytest.fixture
def staging(settings):
    settings.WEBHOOK_ENVIRONMENTS = [*django_settings.WEBHOOK_ENVIRONMENTS, ("staging", "Staging")]
    settings.AUTOQL_STAGING_API_KEY = STAGING_KEY
    settings.METRICS_TOKEN = "metrics-token"


def call(client, method: str, path: str, body: str = "", key: str = STAGING_KEY):
    headers = {"Authorization": f"Bearer {django_settings.AUTOQL_TOKEN}"}
    return client.generic(method, f"{API}{path}?key={key}", body, content_type="application/json", headers=headers)


def test_a_third_environment_is_served_by_the_api_and_delivered_by_the_worker(client, db, staging, httpserver):
    created = call(client, "PUT", "/webhooks/staging", f'{{"url": "{httpserver.url_for("/hook")}"}}')
    assert created.status_code == 201, created.content
    secret = created.json()["data"]["secret"]
    assert call(client, "PUT", "/webhooks/staging", '{"url": "https://h.example.com/"}', key="wrong").status_code == 401
    sandbox_key = django_settings.AUTOQL_SANDBOX_API_KEY
    assert call(client, "GET", "/webhooks/staging/logs", key=sandbox_key).status_code == 403

    httpserver.expect_request("/hook").respond_with_handler(VerifyingReceiver(secret))
    queued = delivery.queue_event("staging", "data_alert.true", data_alert_payload("p1", "t"), project_id="p1")
    assert delivery.deliver_due("staging") == 1
    assert WebhookLog.objects.get(delivery_id=queued.id).status == "success"
    assert call(client, "GET", "/webhooks/staging/logs").json()["data"]["pagination"]["total_items"] == 1

    metrics = client.get("/metrics", HTTP_AUTHORIZATION="Bearer metrics-token").content.decode()
    assert 'webhook_queue_depth{environment="staging"}' in metrics


def test_the_tab_and_the_activity_page_show_a_third_environment(client, db, staging):
    client.force_login(factories.manager())
    manager_client = client
    html = tab_html(manager_client, "env=staging")
    assert 'id="card-staging"' in html and "Staging logs" in html
    activity = manager_client.get("/activity/").content.decode()
    assert '<option value="staging">Staging</option>' in activity
