"""Creates the provider's database and registers the portal as its client:
python -m tests.identity.oidc_provider.prepare CLIENT_ID CLIENT_SECRET REDIRECT_URI... -- POST_LOGOUT_URI..."""

import os
import sys

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.identity.oidc_provider.settings")
django.setup()

from django.core.management import call_command  # noqa: E402
from oauth2_provider.models import Application  # noqa: E402


def main(client_id: str, client_secret: str, *uris: str) -> None:
    call_command("migrate", verbosity=0)
    separator = uris.index("--")
    Application.objects.create(
        name="Webhooks portal",
        client_id=client_id,
        client_secret=client_secret,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        algorithm=Application.RS256_ALGORITHM,
        redirect_uris=" ".join(uris[:separator]),
        post_logout_redirect_uris=" ".join(uris[separator + 1 :]),
        skip_authorization=True,
    )


if __name__ == "__main__":
    main(*sys.argv[1:])
