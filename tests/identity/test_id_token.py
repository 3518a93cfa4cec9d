"""The ID token's issuer and audience are checked (the library checks its signature, expiry and
nonce): a token the provider signed for another application, or another issuer's, is refused.
The tokens are signed with the tests' provider's own key and checked against its real key set."""

import time

import jwt
import pytest
import requests
from django.core.exceptions import SuspiciousOperation
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from identity.oidc import ProviderBackend


@pytest.fixture
def backend(oidc) -> ProviderBackend:
    backend = ProviderBackend()
    # What authenticate() does when a callback arrives: the library reads the provider's endpoints.
    OIDCAuthenticationBackend.__init__(backend)
    return backend


def signed_by_the_provider(oidc, **claims) -> str:
    kid = requests.get(f"{oidc.issuer}/.well-known/jwks.json", timeout=10).json()["keys"][0]["kid"]
    payload = {"iss": oidc.issuer, "aud": oidc.client_id, "sub": "1", "nonce": "n", "exp": int(time.time()) + 60}
    key = (oidc.directory / "key.pem").read_text()
    return jwt.encode({**payload, **claims}, key, algorithm="RS256", headers={"kid": kid})


def test_a_token_for_this_portal_is_accepted(backend, oidc):
    assert backend.verify_token(signed_by_the_provider(oidc), nonce="n")["sub"] == "1"


@pytest.mark.parametrize(
    "claims",
    [{"aud": "another-application"}, {"aud": ["another-application"]}, {"iss": "https://another-issuer.example"}],
    ids=["another audience", "another audience in a list", "another issuer"],
)
def test_a_token_for_another_application_or_from_another_issuer_is_refused(backend, oidc, claims):
    with pytest.raises(SuspiciousOperation):
        backend.verify_token(signed_by_the_provider(oidc, **claims), nonce="n")
