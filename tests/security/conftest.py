from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Permission, User
from django.core.management import call_command

from demo_receiver.models import DemoReceipt
from management_api.models import Delivery, Webhook, WebhookLog

# The browser tests' fixtures (Debian's Chromium, a live server, a signed-in manager).
from tests.browser.conftest import (  # noqa: F401
    as_manager,
    browser_context_args,
    browser_type_launch_args,
    portal,
)


@pytest.fixture
def manager(db) -> User:
    # No password: force_login signs them in, and hashing one would slow every test down.
    user = User.objects.create(username="maria")
    user.user_permissions.add(Permission.objects.get(codename="manage_webhooks"))
    return user


@pytest.fixture
def viewer(db) -> User:
    return User.objects.create(username="victor")


@pytest.fixture
def webhooks(db) -> dict[str, Webhook]:
    """Both webhooks with a history of deliveries, and a roll pending on sandbox: every change
    view has something to change."""
    call_command("seed_demo", "--base-url", "http://127.0.0.1:9", "--seed", "3", "--deliveries", "30", verbosity=0)
    Webhook.objects.get(environment="sandbox").start_secret_roll(timedelta(hours=24))
    return {webhook.environment: webhook for webhook in Webhook.objects.all()}


def everything_stored() -> list[list[dict[str, object]]]:
    """What a refused request must leave as it was: webhooks (secrets included), logs, the queue,
    users and their permissions, demo receipts."""
    tables: list[Any] = [Webhook, WebhookLog, Delivery, DemoReceipt]
    users = list(User.objects.order_by("pk").values("username", "password", "is_staff", "is_superuser", "is_active"))
    permissions = list(User.user_permissions.through.objects.order_by("pk").values())
    return [list(table.objects.order_by("pk").values()) for table in tables] + [users, permissions]
