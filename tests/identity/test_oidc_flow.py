"""OpenID Connect sign-in against the tests' real provider, through the test client."""

from django.contrib.auth.models import User

from tests.identity.conftest import MANAGERS, sign_in_with_provider


def test_a_first_sign_in_creates_the_user_with_the_mapped_role(client, db, oidc):
    oidc.set_person(
        "olivia", "olivia-pass", [MANAGERS], email="olivia@example.com", given_name="Olivia", family_name="Ng"
    )
    response = sign_in_with_provider(client, "olivia", "olivia-pass")
    assert response.status_code == 302, response.content.decode()
    user = User.objects.get(username="olivia")
    assert user.has_perm("webhooks_app.manage_webhooks")
