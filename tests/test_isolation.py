"""Receivers that hang hold neither the web workers nor the other environment's deliveries."""

import contextlib
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from management_api.alerts import send_data_alert
from management_api.models import Delivery, Webhook, WebhookLog
from tests.hostile import hang, raw_receiver
from tests.instances import running_instance
from tests.receiver import VerifyingReceiver
from tests.workers import wait_for, workers

API = "/autoql/management/api/v1/notifications"


def test_fifty_test_connections_to_a_hanging_receiver_leave_the_pages_answering(tmp_path):
    with (
        raw_receiver(hang) as hook_url,
        running_instance(tmp_path, WEBHOOK_ALLOWED_NETWORKS="127.0.0.0/8", WEBHOOK_DELIVERY_DEADLINE="10") as (
            base,
            env,
        ),
    ):
        params = {"key": env["AUTOQL_SANDBOX_API_KEY"]}
        headers = {"Authorization": f"Bearer {env['AUTOQL_TOKEN']}"}
        created = requests.put(
            f"{base}{API}/webhooks/sandbox", params=params, headers=headers, json={"url": hook_url}, timeout=10
        )
        assert created.status_code == 201

        def test_connection(_):
            return requests.post(f"{base}{API}/webhooks/sandbox/test", params=params, headers=headers, timeout=30)

        with ThreadPoolExecutor(50) as pool:
            futures = [pool.submit(test_connection, i) for i in range(50)]
            # The flood has arrived once the cap turns one away; the first ones still hang meanwhile.
            wait_for(lambda: any(f.done() and f.result().status_code == 429 for f in futures), 20, message="a 429")
            login = requests.get(f"{base}/accounts/login/", timeout=5)
            listed = requests.get(f"{base}{API}/webhooks", params=params, headers=headers, timeout=5)
            hanging = [f for f in futures if not f.done()]
            answers = [f.result() for f in futures]
    assert login.status_code == 200
    assert listed.status_code == 200
    assert hanging, "the pages were checked while test connections still hung"
    limited = [a for a in answers if a.status_code == 429]
    assert limited[0].json()["message"] == "Too many test connections are running; try again in a few seconds."
    assert int(limited[0].headers["Retry-After"]) >= 1
    assert all(a.status_code in (200, 429) for a in answers)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("serving", [[None], ["sandbox", "production"]], ids=["one worker", "a worker each"])
def test_a_production_alert_is_delivered_while_the_sandbox_receiver_hangs(httpserver, tmp_path, serving):
    production = Webhook.objects.create(environment="production", url=httpserver.url_for("/hook"), secret="p" * 43)
    httpserver.expect_request("/hook").respond_with_handler(VerifyingReceiver(secret=production.secret))
    # A deadline far longer than the wait below: one loop for both would still be stuck on sandbox.
    slow = {"WEBHOOK_DELIVERY_DEADLINE": "120"}
    with (
        contextlib.ExitStack() as started,
        raw_receiver(hang) as hanging_url,
    ):
        for index, environment in enumerate(serving):
            (tmp_path / str(index)).mkdir()
            started.enter_context(workers(1, tmp_path / str(index), environment=environment, **slow))
        Webhook.objects.create(environment="sandbox", url=hanging_url, secret="s" * 43)
        send_data_alert("sandbox", "p1", "stuck")
        wait_for(
            lambda: Delivery.objects.filter(environment="sandbox", state="in_flight").exists(),
            20,
            message="the sandbox attempt to hang",
        )
        send_data_alert("production", "p1", "delivered anyway")
        wait_for(
            lambda: WebhookLog.objects.filter(environment="production", status="success").exists(),
            20,
            message="the production delivery",
        )
