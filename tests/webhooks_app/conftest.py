import re
from html import unescape

import pytest
from django.contrib.auth.models import Permission, User


@pytest.fixture
def manager(db) -> User:
    user = User.objects.create_user("maria", password="manager-pass-1")
    user.user_permissions.add(Permission.objects.get(codename="manage_webhooks"))
    return user


@pytest.fixture
def viewer(db) -> User:
    return User.objects.create_user("victor", password="viewer-pass-1")


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
