"""`manage.py send_data_alert`."""

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from management_api.models import Delivery, Webhook


def test_it_queues_a_data_alert_with_its_rows(db, tmp_path, capsys):
    Webhook.objects.create(environment="sandbox", url="https://h.example.com/", secret="s" * 43)
    rows = tmp_path / "rows.json"
    rows.write_text(json.dumps([["EMEA", 120], ["NA", 340]]))
    call_command(
        "send_data_alert",
        "--environment",
        "sandbox",
        "--project-id",
        "p1",
        "--title",
        "High Sales",
        "--message",
        "Goal reached",
        "--data",
        str(rows),
    )
    delivery = Delivery.objects.get()
    assert f"Queued delivery {delivery.id}" in capsys.readouterr().out
    assert delivery.event == "data_alert.true" and delivery.project_id == "p1"
    payload = delivery.payload
    assert (payload["title"], payload["message"]) == ("High Sales", "Goal reached")
    assert payload["query_result"]["data"] == {"rows": [["EMEA", 120], ["NA", 340]]}
    assert payload["notification_id"].startswith("nt_") and payload["data_alert_id"].startswith("da_")
    assert isinstance(payload["created_at"], int)


def test_without_a_webhook_it_says_so_and_fails(db):
    with pytest.raises(CommandError, match="No webhook is configured for production"):
        call_command("send_data_alert", "--environment", "production", "--project-id", "p1", "--title", "x")
    assert not Delivery.objects.exists()


def test_a_bad_data_file_is_said_plainly(db, tmp_path):
    Webhook.objects.create(environment="sandbox", url="https://h.example.com/", secret="s" * 43)
    bad = tmp_path / "rows.json"
    bad.write_text("{nope")
    with pytest.raises(CommandError, match="is not valid JSON"):
        call_command(
            "send_data_alert", "--environment", "sandbox", "--project-id", "p1", "--title", "x", "--data", str(bad)
        )
    with pytest.raises(CommandError, match="Cannot read"):
        call_command(
            "send_data_alert",
            "--environment",
            "sandbox",
            "--project-id",
            "p1",
            "--title",
            "x",
            "--data",
            str(tmp_path / "missing.json"),
        )
    assert not Delivery.objects.exists()


def test_it_exits_non_zero_from_the_shell(db):
    import subprocess
    import sys

    from tests.workers import ROOT, worker_env

    done = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "send_data_alert",
            "--environment",
            "sandbox",
            "--project-id",
            "p1",
            "--title",
            "x",
        ],
        cwd=ROOT,
        env=worker_env(),
        capture_output=True,
        text=True,
    )
    assert done.returncode != 0
    assert "No webhook is configured for sandbox" in done.stderr
