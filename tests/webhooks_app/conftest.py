import json
import re
from html import unescape
from urllib.parse import urlsplit

import pytest
from django.contrib.auth.models import User

from tests import factories
from tests.hostile import Behaviour, answer, raw_server


@pytest.fixture
def manager(db) -> User:
    return factories.manager()


@pytest.fixture
def viewer(db) -> User:
    return factories.viewer()


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


@pytest.fixture
def viewer_client(client, viewer):
    client.force_login(viewer)
    return client


HX = {"HTTP_HX_REQUEST": "true"}
# An element that htmx loads by itself as soon as it is in the page.
LOADED_PART = re.compile(r'<[^>]*\bhx-get="([^"]+)"[^>]*\bhx-trigger="load"')


def loaded_parts(html: str, expanded: bool = False) -> list[str]:
    """The URLs a browser fetches for this HTML by itself; with `expanded`, also what every log
    row shows once opened."""
    urls = LOADED_PART.findall(html)
    if expanded:
        urls += re.findall(r'\bdata-detail-url="([^"]+)"', html)
        urls += re.findall(r'\bhx-get="([^"]+)" hx-trigger="intersect once"', html)
    return [unescape(url) for url in urls]


def tab_html(client, query: str = "", expanded: bool = False) -> str:
    """What a browser shows at /?<query> once the parts have loaded: the page and each part it
    loads by itself (the cards and the logs in upstream mode, the health panel), fetched as htmx
    fetches them; with `expanded`, every log row opened too."""
    html = ""
    pending = [f"/?{query}"]
    while pending:
        url = pending.pop(0)
        response = client.get(url, **({} if url.startswith("/?") else HX))
        assert response.status_code == 200, (url, response)
        part = response.content.decode()
        html += part
        pending += loaded_parts(part, expanded)
    return html


# An upstream management API that answers raw bytes (tests/hostile.py): trickles, cut bodies and
# bytes no HTTP library would send are real.

API = "/autoql/management/api/v1/notifications"
UPSTREAM_WEBHOOK = {
    "environment": "sandbox",
    "url": "https://a.example.com/",
    "secret": "s" * 43,
    "created_at": "2026-11-28T14:00:00Z",
    "updated_at": "2026-11-28T14:00:00Z",
}


def envelope(data):
    return {"data": data, "message": "Success", "reference_id": "1.1.200"}


def upstream_answer(status: str, headers: list[bytes], body: bytes = b"", length: int | None = None) -> bytes:
    """One HTTP/1.1 answer that closes its connection; `length` may claim more than the body has."""
    size = len(body) if length is None else length
    head = [f"HTTP/1.1 {status}".encode(), *headers, f"Content-Length: {size}".encode(), b"Connection: close"]
    return b"\r\n".join(head) + b"\r\n\r\n" + body


def json_answer(value, status: str = "200 OK") -> bytes:
    return upstream_answer(status, [b"Content-Type: application/json"], json.dumps(value).encode())


NOT_FOUND = json_answer({"message": "There is no such API path.", "reference_id": "1.1.404"}, "404 Not Found")


class RawUpstream:
    """What the upstream does with each call: by path under the API's (e.g. "/webhooks"), else
    what `serve` set for every path, else a 404 of the contract's shape."""

    def __init__(self) -> None:
        self.by_path: dict[str, Behaviour] = {}
        self.everything: Behaviour = answer(NOT_FOUND)

    def serve(self, behaviour: Behaviour, path: str | None = None) -> None:
        if path is None:
            self.everything = behaviour
        else:
            self.by_path[path] = behaviour

    def behaviour_for(self, target: str) -> Behaviour:
        path = urlsplit(target).path.removeprefix(API)
        return self.by_path.get(path, self.everything)


@pytest.fixture
def raw_upstream(settings):
    """Points the portal at a raw upstream on 127.0.0.1 (RawUpstream says what it answers)."""
    settings.AUTOQL_SANDBOX_API_KEY = "sandbox-key"
    settings.AUTOQL_PRODUCTION_API_KEY = "production-key"
    settings.AUTOQL_TOKEN = "the-token"
    upstream = RawUpstream()
    with raw_server(upstream.behaviour_for) as base_url:
        settings.AUTOQL_DOMAIN = base_url
        yield upstream
