"""Playwright drives Debian's Chromium (Playwright's own browser download cannot work offline)."""

import os
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission, User
from playwright.sync_api import expect

# How long an expectation waits for the page to get there: a ceiling, not a speed goal. CI runs the
# SQLite and PostgreSQL suites side by side on two cores, where a part that loads in 50 ms alone
# can take seconds; 5 s (Playwright's default) failed there with nothing wrong.
expect.set_options(timeout=15_000)

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": os.environ.get("CHROMIUM", "/usr/bin/chromium"),
        "args": CHROMIUM_ARGS,
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {
        **browser_context_args,
        "viewport": {"width": 1280, "height": 900},
        "locale": "en-GB",
        "timezone_id": "Europe/London",
    }


ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def screenshots() -> Path:
    """Where the browser tests save their screenshots: build/screenshots/, which git ignores.

    `make screenshots` sets SCREENSHOTS_DIR=docs/screenshots to refresh the tracked ones.
    """
    directory = ROOT / os.environ.get("SCREENSHOTS_DIR", "build/screenshots")
    directory.mkdir(parents=True, exist_ok=True)
    return directory


@pytest.fixture
def portal(live_server, transactional_db):
    return live_server.url


def sign_in(page, portal_url, username, password):
    page.goto(f"{portal_url}/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Webhooks", exact=True).wait_for()


@pytest.fixture
def as_manager(page, portal):
    user = User.objects.create_user("maria", password="manager-pass-1")
    user.user_permissions.add(Permission.objects.get(codename="manage_webhooks"))
    sign_in(page, portal, "maria", "manager-pass-1")
    return page


@pytest.fixture
def as_viewer(page, portal):
    User.objects.create_user("victor", password="viewer-pass-1")
    sign_in(page, portal, "victor", "viewer-pass-1")
    return page
