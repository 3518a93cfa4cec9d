"""POST /webhooks/{environment}/logs/{id}/resend: a new attempt of the same delivery."""

import pytest

from management_api import delivery as deliveries
from management_api.models import Delivery, Webhook, WebhookLog
from tests.receiver import VerifyingReceiver
from tests.wakeups import postgresql_only, wake_ups_heard

pytestmark = pytest.mark.usefixtures("allow_loopback")


def test_it_resends_a_logged_test_with_the_same_delivery_id(api, httpserver):
    secret = api.create(url=httpserver.url_for("/hook"))["secret"]
    receiver = VerifyingReceiver(secret=secret)
    httpserver.expect_request("/hook").respond_with_handler(receiver)
    log_id = api.call("POST", "/webhooks/sandbox/test", {}).json()["data"]["log_id"]
    first = WebhookLog.objects.get()

    response = api.call("POST", f"/webhooks/sandbox/logs/{log_id}/resend")

    assert response.status_code == 202
    assert response.json()["data"] == {"delivery_id": str(first.delivery_id), "status": "pending"}
    assert Delivery.objects.get().state == "pending"  # due again: the row is the queue
    assert deliveries.attempt_delivery(str(first.delivery_id)) == "delivered"
    second = WebhookLog.objects.order_by("-seq").first()
    assert second is not None
    assert (second.delivery_id, second.attempt, second.status) == (first.delivery_id, 2, "success")
    assert [r["headers"]["Autoql-Delivery-Id"] for r in receiver.received] == [str(first.delivery_id)] * 2


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_once_committed_a_resend_wakes_the_workers(api, httpserver):
    api.create(url=httpserver.url_for("/hook"))
    httpserver.expect_request("/hook").respond_with_data("no", status=500)
    log_id = api.call("POST", "/webhooks/sandbox/test", {}).json()["data"]["log_id"]
    with wake_ups_heard() as heard:
        assert api.call("POST", f"/webhooks/sandbox/logs/{log_id}/resend").status_code == 202
    assert heard == ["sandbox"]


def test_an_unknown_log_is_404(api):
    api.create()
    for log_id in ("999", "abc", "-1"):
        response = api.call("POST", f"/webhooks/sandbox/logs/{log_id}/resend")
        assert response.status_code == 404
    assert not Delivery.objects.exists()


def test_a_log_of_the_other_environment_is_404(api):
    api.create("sandbox")
    api.create("production")
    log = WebhookLog.objects.create(
        environment="production", type="test", event="test", status="success", url="https://p.example.com/"
    )
    response = api.call("POST", f"/webhooks/sandbox/logs/{log.pk}/resend")
    assert response.status_code == 404


def test_a_log_whose_delivery_is_gone_cannot_be_resent(api):
    api.create()
    log = WebhookLog.objects.create(
        environment="sandbox", type="test", event="test", status="success", url="https://p.example.com/"
    )
    response = api.call("POST", f"/webhooks/sandbox/logs/{log.pk}/resend")
    assert response.status_code == 409
    assert "no longer kept" in response.json()["message"]


def test_a_disabled_webhook_refuses_resends(api):
    api.create()
    Webhook.objects.update(disabled_at="2026-11-01T00:00:00Z", disabled_reason="Failing for 5 days.")
    log = WebhookLog.objects.create(
        environment="sandbox", type="test", event="test", status="success", url="https://p.example.com/"
    )
    assert api.call("POST", f"/webhooks/sandbox/logs/{log.pk}/resend").status_code == 409


def test_an_id_too_large_for_the_database_is_404(api):
    api.create()
    assert api.call("POST", f"/webhooks/sandbox/logs/{10**30}/resend").status_code == 404
