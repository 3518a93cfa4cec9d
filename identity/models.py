from django.conf import settings
from django.db import models


class ExternalAccount(models.Model):
    """The link from a portal user to the person an identity provider or directory vouched for.

    A single sign-on finds its user by this link, never by a matching username or email: a person
    in the directory named "admin" must not become the local administrator.
    """

    class Provider(models.TextChoices):
        OIDC = "oidc", "OpenID Connect"
        LDAP = "ldap", "LDAP directory"

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="external_account")
    provider = models.CharField(max_length=8, choices=Provider.choices)
    # The ID token's `sub` (stable, unlike a name or an email), or the directory's username.
    subject = models.CharField(max_length=255)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["provider", "subject"], name="identity_one_user_per_subject")]

    def __str__(self) -> str:
        return f"{self.get_provider_display()}: {self.subject}"
