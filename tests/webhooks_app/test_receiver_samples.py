"""The receiver samples of the Integrate page, run as an integrator runs them, against real deliveries."""

import json
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from werkzeug import Request, Response

from management_api.delivery import deliver_test_event
from management_api.models import Webhook, WebhookLog
from management_api.sender import build_body, send_signed, signed_headers
from management_api.signing import sign
from management_api.webhooks import complete_roll, start_roll
from webhooks_app.integrator import SAMPLES_DIR

SECRET = "integrator-secret-" + "k" * 30
PAYLOAD = {"title": "High Sales", "project_id": "p1"}


def start_receiver(command: list[str], secrets: dict[str, str] | None = None) -> Iterator[str]:
    """Run a sample receiver on a free port of 127.0.0.1 and yield its URL once it listens."""
    secrets = {"AUTOQL_WEBHOOK_SECRET": SECRET} if secrets is None else secrets
    environment = {**secrets, "HOST": "127.0.0.1", "PORT": "0", "PATH": "/usr/bin:/bin"}
    process = subprocess.Popen(
        command, cwd=SAMPLES_DIR, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert process.stdout is not None and process.stderr is not None
    try:
        first_line = process.stdout.readline()
        assert first_line.startswith("Listening on port "), first_line + process.stderr.read()
        yield f"http://127.0.0.1:{first_line.split()[-1]}/hook"
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def python_receiver() -> Iterator[str]:
    yield from start_receiver([sys.executable, "autoql_receiver.py"])


@pytest.fixture
def node_receiver() -> Iterator[str]:
    node = shutil.which("node") or ("/usr/bin/node" if Path("/usr/bin/node").exists() else None)
    if node is None:
        pytest.skip("node is not installed on this machine; the Node sample cannot be run")
    yield from start_receiver([node, "autoql_receiver.js"])


def post(url: str, headers: dict[str, str], body: bytes) -> requests.Response:
    return requests.post(url, data=body, headers=headers, timeout=10)


def old_headers(body: bytes) -> dict[str, str]:
    """Correctly signed, but six minutes ago: a replay."""
    headers = signed_headers(SECRET, "data_alert.true", body, uuid.uuid4())
    timestamp = str(int((time.time() - 6 * 60) * 1000))
    return {**headers, "AutoQL-Timestamp": timestamp, "AutoQL-Signature": sign(SECRET, timestamp, body)}


def test_the_python_sample_accepts_a_real_delivery_and_refuses_forgeries(python_receiver, allow_loopback):
    body = build_body("data_alert.true", PAYLOAD)

    accepted = send_signed(python_receiver, SECRET, "data_alert.true", body, uuid.uuid4())
    forged = send_signed(python_receiver, "another-secret", "data_alert.true", body, uuid.uuid4())
    replayed = post(python_receiver, old_headers(body), body)

    assert (accepted.success, accepted.status_code, accepted.response) == (True, 200, {"message": "ok"})
    assert (forged.status_code, forged.response) == (401, {"error": "invalid signature"})
    assert replayed.status_code == 401


def test_the_python_sample_refuses_a_changed_body(python_receiver):
    body = build_body("data_alert.true", PAYLOAD)
    headers = signed_headers(SECRET, "data_alert.true", body, uuid.uuid4())
    assert post(python_receiver, headers, body).status_code == 200
    assert post(python_receiver, headers, body.replace(b"High", b"Low!")).status_code == 401


def test_the_node_sample_accepts_a_signed_delivery_and_refuses_forgeries(node_receiver):
    body = build_body("data_alert.true", PAYLOAD)
    headers = signed_headers(SECRET, "data_alert.true", body, uuid.uuid4())
    bad_signature = {**headers, "AutoQL-Signature": sign("another-secret", headers["AutoQL-Timestamp"], body)}

    accepted = post(node_receiver, headers, body)

    assert (accepted.status_code, accepted.json()) == (200, {"message": "ok"})
    assert post(node_receiver, bad_signature, body).status_code == 401
    assert post(node_receiver, old_headers(body), body).status_code == 401
    assert post(node_receiver, headers, body.replace(b"High", b"Low!")).status_code == 401
    assert post(node_receiver, {**headers, "AutoQL-Signature": ""}, body).status_code == 401


def test_the_node_sample_accepts_a_real_delivery_from_the_sender(node_receiver, allow_loopback):
    result = send_signed(node_receiver, SECRET, "test", build_body("test", {"message": "hi"}), uuid.uuid4())
    assert (result.success, result.response) == (True, {"message": "ok"})


@pytest.fixture
def openssl() -> None:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed on this machine; the shell sample cannot be run")


def run_shell_sample(
    tmp_path: Path, body: bytes, timestamp: str, signature: str, secrets: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    saved = tmp_path / "body.json"
    saved.write_bytes(body)
    return subprocess.run(
        ["sh", str(SAMPLES_DIR / "verify_autoql_signature.sh"), str(saved), timestamp, signature],
        env={**({"AUTOQL_WEBHOOK_SECRET": SECRET} if secrets is None else secrets), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_the_shell_sample_checks_a_delivery_by_hand(openssl, tmp_path):
    body = json.dumps({"event": "data_alert.true", "payload": PAYLOAD}).encode()
    headers = signed_headers(SECRET, "data_alert.true", body, uuid.uuid4())
    timestamp, signature = headers["AutoQL-Timestamp"], headers["AutoQL-Signature"]
    old = old_headers(body)

    valid = run_shell_sample(tmp_path, body, timestamp, signature)
    forged = run_shell_sample(tmp_path, body, timestamp, sign("another-secret", timestamp, body))
    replayed = run_shell_sample(tmp_path, body, old["AutoQL-Timestamp"], old["AutoQL-Signature"])

    assert (valid.returncode, valid.stdout) == (0, "valid\n")
    assert (forged.returncode, forged.stdout) == (1, "AutoQL-Signature does not match\n")
    assert (replayed.returncode, replayed.stdout) == (1, "AutoQL-Timestamp is more than 5 minutes away from now\n")


# Rolling a secret end to end (issue 19, item 9): the receiver holds the next and the current
# secret from the roll until after the switch, and no delivery is rejected on the way.


def node_command() -> list[str]:
    return [shutil.which("node") or "/usr/bin/node", "autoql_receiver.js"]


RECEIVER_COMMANDS = {"python": lambda: [sys.executable, "autoql_receiver.py"], "node": node_command}


@pytest.mark.parametrize("sample", ["python", "node"])
def test_a_receiver_sample_holding_both_secrets_rejects_no_delivery_through_a_roll_and_a_switch(
    sample, db, allow_loopback
):
    command = RECEIVER_COMMANDS[sample]()
    receiver = contextmanager(start_receiver)
    webhook = Webhook.objects.create(environment="sandbox", url="https://placeholder.example.com/", secret=SECRET)

    def deliver_to(url: str) -> tuple[int | None, bool]:
        Webhook.objects.filter(pk=webhook.pk).update(url=url)
        webhook.refresh_from_db()
        _, result = deliver_test_event(webhook)
        return result.status_code, result.success

    with receiver(command, {"AUTOQL_WEBHOOK_SECRET": SECRET}) as url:  # before the roll: one secret
        assert deliver_to(url) == (200, True)
    start_roll(webhook, timedelta(hours=24))
    next_secret = webhook.next_secret
    assert next_secret and next_secret != SECRET
    with receiver(command, {"AUTOQL_WEBHOOK_SECRETS": f"{next_secret},{SECRET}"}) as url:
        assert deliver_to(url) == (200, True)  # still signed with the current secret
        assert complete_roll(webhook)
        assert deliver_to(url) == (200, True)  # signed with the next one now
        # Holding two secrets is not accepting anything: a third one is still refused.
        forged = send_signed(url, "another-secret", "test", build_body("test", {}), uuid.uuid4())
        assert forged.status_code == 401
    with receiver(command, {"AUTOQL_WEBHOOK_SECRET": next_secret}) as url:  # the old one dropped
        assert deliver_to(url) == (200, True)
    assert list(WebhookLog.objects.values_list("status", flat=True)) == ["success"] * 4


def test_the_shell_sample_holding_both_secrets_finds_every_delivery_valid_through_a_roll_and_a_switch(
    openssl, tmp_path, httpserver, db, allow_loopback
):
    received: list[tuple[bytes, str, str]] = []

    def keep(request: Request) -> Response:
        headers = request.headers
        received.append((request.get_data(), headers["AutoQL-Timestamp"], headers["AutoQL-Signature"]))
        return Response("{}", status=200, content_type="application/json")

    httpserver.expect_request("/hook", method="POST").respond_with_handler(keep)
    webhook = Webhook.objects.create(environment="sandbox", url=httpserver.url_for("/hook"), secret=SECRET)
    deliver_test_event(webhook)  # before the roll
    start_roll(webhook, timedelta(hours=24))
    next_secret = webhook.next_secret
    assert next_secret
    deliver_test_event(webhook)  # during the roll, still signed with the current secret
    complete_roll(webhook)
    deliver_test_event(webhook)  # after the switch
    assert len(received) == 3

    both = {"AUTOQL_WEBHOOK_SECRETS": f"{next_secret},{SECRET}"}
    checks = [run_shell_sample(tmp_path, body, timestamp, signature, both) for body, timestamp, signature in received]
    assert [(check.returncode, check.stdout) for check in checks] == [(0, "valid\n")] * 3
    # Either secret alone fails the deliveries signed with the other.
    current_only = [run_shell_sample(tmp_path, *delivery, {"AUTOQL_WEBHOOK_SECRET": SECRET}) for delivery in received]
    next_only = [run_shell_sample(tmp_path, *delivery, {"AUTOQL_WEBHOOK_SECRET": next_secret}) for delivery in received]
    assert [check.returncode for check in current_only] == [0, 0, 1]
    assert [check.returncode for check in next_only] == [1, 1, 0]
