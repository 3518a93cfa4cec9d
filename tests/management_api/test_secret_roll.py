"""Rolling a secret: the next one is handed out first, deliveries stay signed with the old one
until the switch (by a manager, or at the chosen expiry), and never carry two signatures."""

from datetime import timedelta

import pytest
from django.utils import timezone
from werkzeug import Request, Response

from management_api import delivery as deliveries
from management_api.alerts import data_alert_payload
from management_api.models import Webhook
from management_api.signing import verify

pytestmark = pytest.mark.usefixtures("allow_loopback")


class SignatureRecorder:
    """A receiver that keeps every AutoQL-Signature header it got, with the timestamp and body."""

    def __init__(self) -> None:
        self.received: list[dict] = []

    def __call__(self, request: Request) -> Response:
        self.received.append(
            {
                "signatures": request.headers.getlist("AutoQL-Signature"),
                "timestamp": request.headers.get("AutoQL-Timestamp", ""),
                "body": request.get_data(),
            }
        )
        return Response('{"message": "ok"}', status=200, content_type="application/json")

    def verifies_with(self, secret: str) -> bool:
        """Whether the last request carried exactly one signature, and it verifies with `secret`."""
        last = self.received[-1]
        assert len(last["signatures"]) == 1, last["signatures"]
        return verify(secret, last["timestamp"], last["signatures"][0], last["body"]) is None


@pytest.fixture
def receiver(httpserver) -> SignatureRecorder:
    recorder = SignatureRecorder()
    httpserver.expect_request("/hook", method="POST").respond_with_handler(recorder)
    return recorder


@pytest.fixture
def created(api, httpserver, receiver) -> dict:
    return api.create(url=httpserver.url_for("/hook"))


def send_test_event(api) -> None:
    response = api.call("POST", "/webhooks/sandbox/test", {})
    assert response.json()["data"]["status_code"] == 200, response.json()


def send_data_alert(api) -> None:
    payload = data_alert_payload("project1", "High Sales", "Goal reached")
    response = api.call("POST", "/webhooks/sandbox/events", {"event": "data_alert.true", "payload": payload})
    assert response.status_code == 202, response.json()
    assert deliveries.attempt_delivery(response.json()["data"]["delivery_id"]) == "delivered"


def roll(api, body=None) -> dict:
    response = api.call("POST", "/webhooks/sandbox/secret/roll", {} if body is None else body)
    assert response.status_code == 200, response.json()
    return response.json()["data"]


def test_roll_hands_out_the_next_secret_and_when_it_takes_over(api, created):
    before = timezone.now()
    data = roll(api)
    after = timezone.now()
    assert data["secret"] == created["secret"]
    assert len(data["next_secret"]) == 43 and data["next_secret"] != created["secret"]
    activates_at = Webhook.objects.get().next_secret_activates_at
    assert activates_at is not None
    assert before + timedelta(hours=24) <= activates_at <= after + timedelta(hours=24)
    assert data["next_secret_activates_at"] == activates_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    # Shown once: the other calls show the current secret only.
    [listed] = api.call("GET", "/webhooks").json()["data"]["items"]
    assert listed["secret"] == created["secret"] and "next_secret" not in listed
    assert listed["next_secret_activates_at"] == data["next_secret_activates_at"]


def test_the_webhook_says_when_no_roll_is_pending(api, created):
    assert created["next_secret_activates_at"] is None
    roll(api)
    cancelled = api.call("DELETE", "/webhooks/sandbox/secret/roll").json()["data"]
    assert cancelled["next_secret_activates_at"] is None and "next_secret" not in cancelled


def test_expiry_can_be_chosen_up_to_a_week(api, created):
    before = timezone.now()
    roll(api, {"expires_in_hours": 168})
    activates_at = Webhook.objects.get().next_secret_activates_at
    assert activates_at is not None and activates_at >= before + timedelta(hours=168)


@pytest.mark.parametrize("send", [send_test_event, send_data_alert])
def test_during_a_roll_deliveries_verify_with_the_old_secret_only(api, created, receiver, send):
    data = roll(api)
    send(api)
    assert receiver.verifies_with(created["secret"])
    assert not receiver.verifies_with(data["next_secret"])


@pytest.mark.parametrize("send", [send_test_event, send_data_alert])
def test_after_complete_deliveries_verify_with_the_new_secret_only(api, created, receiver, send):
    data = roll(api)
    response = api.call("POST", "/webhooks/sandbox/secret/roll/complete", {})
    assert response.status_code == 200
    assert response.json()["data"]["secret"] == data["next_secret"]
    send(api)
    assert receiver.verifies_with(data["next_secret"])
    assert not receiver.verifies_with(created["secret"])
    webhook = Webhook.objects.get()
    assert (webhook.secret, webhook.next_secret, webhook.next_secret_activates_at) == (data["next_secret"], None, None)


@pytest.mark.parametrize("send", [send_test_event, send_data_alert])
def test_after_the_expiry_deliveries_verify_with_the_new_secret_only(api, created, receiver, send):
    data = roll(api)
    Webhook.objects.update(next_secret_activates_at=timezone.now() - timedelta(seconds=1))
    send(api)
    assert receiver.verifies_with(data["next_secret"])
    assert not receiver.verifies_with(created["secret"])
    assert Webhook.objects.get().secret == data["next_secret"]


def test_after_the_expiry_the_api_shows_the_new_secret(api, created):
    data = roll(api)
    Webhook.objects.update(next_secret_activates_at=timezone.now() - timedelta(seconds=1))
    [listed] = api.call("GET", "/webhooks").json()["data"]["items"]
    assert listed["secret"] == data["next_secret"]


def test_two_processes_promoting_at_once_both_sign_with_the_new_secret(api, created):
    data = roll(api)
    Webhook.objects.update(next_secret_activates_at=timezone.now() - timedelta(seconds=1))
    first, second = Webhook.objects.get(), Webhook.objects.get()
    assert first.signing_secret() == data["next_secret"]
    # The second finds nothing left to promote and must not copy the now empty next_secret.
    assert second.signing_secret() == data["next_secret"]
    assert Webhook.objects.get().secret == data["next_secret"]


def test_cancel_keeps_the_old_secret(api, created, receiver):
    roll(api)
    response = api.call("DELETE", "/webhooks/sandbox/secret/roll")
    assert response.status_code == 200
    assert response.json()["data"]["secret"] == created["secret"]
    webhook = Webhook.objects.get()
    assert (webhook.secret, webhook.next_secret, webhook.next_secret_activates_at) == (created["secret"], None, None)
    send_test_event(api)
    assert receiver.verifies_with(created["secret"])


def test_put_secret_replaces_it_at_once_and_cancels_the_roll(api, created, receiver):
    data = roll(api)
    replaced = api.call("PUT", "/webhooks/sandbox/secret", {}).json()["data"]["secret"]
    assert replaced not in (created["secret"], data["next_secret"])
    webhook = Webhook.objects.get()
    assert (webhook.secret, webhook.next_secret, webhook.next_secret_activates_at) == (replaced, None, None)
    send_test_event(api)
    assert receiver.verifies_with(replaced)


def test_rolling_again_replaces_the_pending_next_secret(api, created):
    first = roll(api)
    second = roll(api, {"expires_in_hours": 1})
    assert second["next_secret"] != first["next_secret"]
    assert Webhook.objects.get().next_secret == second["next_secret"]


@pytest.mark.parametrize(
    "method,path,message",
    [
        ("POST", "/webhooks/sandbox/secret/roll/complete", "No secret roll is pending for sandbox; start one first."),
        ("DELETE", "/webhooks/sandbox/secret/roll", "No secret roll is pending for sandbox."),
    ],
)
def test_complete_or_cancel_without_a_roll_is_409(api, created, method, path, message):
    response = api.call(method, path, {} if method == "POST" else None)
    assert response.status_code == 409
    assert response.json() == {"message": message, "reference_id": "1.1.409"}
    assert Webhook.objects.get().secret == created["secret"]


@pytest.mark.parametrize(
    "method,path",
    [
        ("POST", "/webhooks/sandbox/secret/roll"),
        ("POST", "/webhooks/sandbox/secret/roll/complete"),
        ("DELETE", "/webhooks/sandbox/secret/roll"),
    ],
)
def test_every_roll_call_answers_404_without_a_webhook(api, method, path):
    response = api.call(method, path, {} if method == "POST" else None)
    assert response.status_code == 404
    assert response.json()["message"] == "No webhook is configured for sandbox; create one first."


def test_roll_needs_the_environments_key(api, created):
    response = api.call("POST", "/webhooks/sandbox/secret/roll", {}, environment="production")
    assert response.status_code == 403
    response = api.call("POST", "/webhooks/sandbox/secret/roll", {}, token="wrong")
    assert response.status_code == 401
    assert Webhook.objects.get().next_secret is None


@pytest.mark.parametrize(
    "body",
    [
        {"expires_in_hours": 0},
        {"expires_in_hours": 169},
        {"expires_in_hours": -1},
        {"expires_in_hours": 1.5},
        {"expires_in_hours": "24"},
        {"expires_in_hours": None},
        {"expires_in_hours": True},
        {"expires_in_hours": 24, "expires_at": "tomorrow"},
        ["expires_in_hours"],
    ],
)
def test_bad_expires_in_hours_is_400_and_stores_nothing(api, created, body):
    before = Webhook.objects.get()
    response = api.call("POST", "/webhooks/sandbox/secret/roll", body)
    assert response.status_code == 400
    error = response.json()
    assert error["reference_id"] == "1.1.400" and error["message"] and error["errors"]
    assert before.secret not in response.content.decode()
    after = Webhook.objects.get()
    assert (after.secret, after.next_secret, after.next_secret_activates_at, after.updated_at) == (
        before.secret,
        None,
        None,
        before.updated_at,
    )


def test_a_body_that_is_not_json_is_400(api, created):
    response = api.call("POST", "/webhooks/sandbox/secret/roll", raw=b"{not json")
    assert response.status_code == 400
    assert response.json()["reference_id"] == "1.1.400"
    assert Webhook.objects.get().next_secret is None
