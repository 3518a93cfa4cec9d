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
