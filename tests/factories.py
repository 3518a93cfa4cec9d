"""What the tests make, made one way: people of each role, webhooks, deliveries and log rows.

Log rows go through WebhookLog.objects.append, the one way the product writes them, so that
their numbering and the /metrics tallies stay as the product keeps them.
"""

import random
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import Permission, User
from django.db import transaction

from management_api.management.commands.seed_logs import BATCH_SIZE, History
from management_api.models import Delivery, Webhook, WebhookLog

SECRET = "s" * 43


def manager(username: str = "maria", password: str = "manager-pass-1") -> User:
    """A user with "Can manage webhooks": changes webhooks and reveals secrets."""
    user = User.objects.create_user(username, password=password)
    user.user_permissions.add(Permission.objects.get(codename="manage_webhooks"))
    return user


def viewer(username: str = "victor", password: str = "viewer-pass-1") -> User:
    """Any other signed-in user: sees the cards and the logs, changes nothing."""
    return User.objects.create_user(username, password=password)


def webhook(environment: str = "sandbox", url: str = "https://hooks.example.com/hook", **fields: Any) -> Webhook:
    return Webhook.objects.create(environment=environment, url=url, secret=fields.pop("secret", SECRET), **fields)


def delivery(environment: str = "sandbox", **fields: Any) -> Delivery:
    values: dict[str, Any] = {"type": "data_alert", "event": "data_alert.true", "payload": {"title": "x"}, **fields}
    return Delivery.objects.create(environment=environment, **values)


def log_row(environment: str = "sandbox", **fields: Any) -> WebhookLog:
    """One logged attempt (a success by default), numbered and counted as the sender's are."""
    values: dict[str, Any] = {
        "type": "data_alert",
        "event": "data_alert.true",
        "status": "success",
        "code": 200,
        "url": "https://hooks.example.com/hook",
        "duration_ms": 40,
        **fields,
    }
    log = WebhookLog(environment=environment, **values)
    with transaction.atomic():
        WebhookLog.objects.append([log])
    return log


def history(count: int, until: datetime, environment: str = "sandbox", days: float = 7.0, **fields: Any) -> None:
    """`count` realistic rows over the `days` before `until`, written as seed_logs writes them
    (oldest first, a batch per transaction); `fields` overrides a column in every row."""
    step = timedelta(days=days) / count
    rows = History(
        random.Random(count), environment=environment, url="https://hooks.example.com/hook", secret=SECRET
    ).rows(count, until - step * count, step)
    for row in rows:
        row.update(fields)
    for start in range(0, count, BATCH_SIZE):
        with transaction.atomic():
            WebhookLog.objects.append_values(environment, rows[start : start + BATCH_SIZE])
