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


def tab_html(client, query: str = "") -> str:
    """What a browser shows at /?<query> once the parts have loaded: the page, both cards and
    the logs, each fetched as htmx fetches it."""
    parts = [client.get(f"/?{query}")]
    parts += [client.get(f"/webhooks/{environment}/card", **HX) for environment in ("sandbox", "production")]
    parts.append(client.get(f"/logs?{query}", **HX))
    for response in parts:
        assert response.status_code == 200, response
    return "".join(response.content.decode() for response in parts)
