"""Single sign-on flows for the test client: what a browser does at the provider's own page."""

import re
from urllib.parse import urljoin, urlsplit

import requests
from django.test import Client

from tests.identity.fixtures import MANAGERS, STAFF, TEST_CLIENT_URL, VIEWERS

__all__ = ["MANAGERS", "STAFF", "VIEWERS", "local_path", "sign_in_at_provider", "sign_in_with_provider"]


def sign_in_at_provider(authorize_url: str, username: str, password: str) -> str:
    """What a browser does at the provider: its sign-in page, then back; returns the callback URL."""
    browser = requests.Session()
    page = browser.get(authorize_url, timeout=10)
    assert "Contoso ID" in page.text, page.text[:500]
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert token is not None
    answer = browser.post(
        page.url,
        data={"username": username, "password": password, "csrfmiddlewaretoken": token.group(1)},
        allow_redirects=False,
        timeout=10,
    )
    location = urljoin(page.url, answer.headers["Location"])
    while not location.startswith(TEST_CLIENT_URL):
        answer = browser.get(location, allow_redirects=False, timeout=10)
        assert answer.status_code == 302, (answer.status_code, answer.text[:500])
        location = urljoin(location, answer.headers["Location"])
    return location


def local_path(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def sign_in_with_provider(client: Client, username: str, password: str):
    """The whole flow for the test client: the button, the provider's page, the callback."""
    start = client.get("/accounts/oidc/start/")
    assert start.status_code == 302, start.content.decode()[:500]
    return client.get(local_path(sign_in_at_provider(start["Location"], username, password)))
