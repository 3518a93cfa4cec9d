"""LDAP sign-in against the tests' real slapd, through the password form."""

from django.contrib.auth.models import User


def test_a_directory_password_signs_in_with_the_mapped_role(client, db, ldap_directory):
    response = client.post("/accounts/login/", {"username": "lara", "password": "lara-directory-pass"})
    assert response.status_code == 302, response.content.decode()
    user = User.objects.get(username="lara")
    assert user.has_perm("webhooks_app.manage_webhooks") and user.is_staff
