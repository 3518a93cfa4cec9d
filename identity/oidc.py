"""OpenID Connect sign-in through mozilla-django-oidc: the authorization code flow with PKCE, state
and nonce, the ID token checked against the provider's keys, its issuer and audience.

The library reads its configuration through `get_settings`, which this module answers from the
portal's own settings (OIDC_ISSUER, OIDC_CLIENT_ID, ...) and from the provider's discovery document
(identity/provider.py), fetched at the first sign-in.
"""

import logging
from typing import Any
from urllib.parse import urlencode

import jwt
import requests
from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.exceptions import SuspiciousOperation
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.views.decorators.http import require_GET
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.utils import import_from_settings
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from identity.claims import Person, person_from_claims
from identity.models import ExternalAccount
from identity.outcomes import mark_signed_in, record_failure
from identity.provider import UNREACHABLE, provider_configuration
from identity.refusals import DISABLED, NAME_TAKEN, ProviderUnavailable, SignInRefused
from identity.roles import Grant, apply_grant, grant_for, withdraw_roles
from identity.signin import lockout_sentence, sign_in_problem

logger = logging.getLogger(__name__)

PROVIDER = "OpenID Connect"
# Where the session says how its user signed in, for signing out of the provider too.
SIGNED_IN_WITH = "identity_signed_in_with"
# mozilla-django-oidc keeps the ID token here (OIDC_STORE_ID_TOKEN), the hint a provider's sign-out wants.
ID_TOKEN_SESSION_KEY = "oidc_id_token"

NOT_VERIFIED = (
    "The answer from the sign-in service could not be verified, so you were not signed in. Start again from this page."
)
NOT_COMPLETED = "The sign-in was not completed at the sign-in service. Start again from this page."
CODE_REFUSED = "This sign-in had expired or was already used. Start again from this page."
CREDENTIALS_REFUSED = (
    "The sign-in service did not accept this portal's credentials, so nobody can sign in with it right now. "
    "Tell an administrator: the portal's client id or secret may be wrong."
)

# The provider's endpoints, from its discovery document.
DISCOVERED = {
    "OIDC_OP_AUTHORIZATION_ENDPOINT": "authorization_endpoint",
    "OIDC_OP_TOKEN_ENDPOINT": "token_endpoint",
    "OIDC_OP_USER_ENDPOINT": "userinfo_endpoint",
    "OIDC_OP_JWKS_ENDPOINT": "jwks_uri",
}
# The flow the portal always uses: RS256 is the one algorithm every provider must offer.
FIXED = {
    "OIDC_RP_SIGN_ALGO": "RS256",
    "OIDC_USE_PKCE": True,
    "OIDC_PKCE_CODE_CHALLENGE_METHOD": "S256",
    "OIDC_USE_NONCE": True,
    "OIDC_STORE_ID_TOKEN": True,
    "OIDC_TOKEN_USE_BASIC_AUTH": True,
    "OIDC_CREATE_USER": True,
    "OIDC_AUTHENTICATION_CALLBACK_URL": "oidc_callback",
}


def library_setting(name: str, *default: Any) -> Any:
    """mozilla-django-oidc's settings, answered from the portal's and the provider's."""
    if name in DISCOVERED:
        return provider_configuration().get(DISCOVERED[name])
    portal = {
        "OIDC_RP_CLIENT_ID": settings.OIDC_CLIENT_ID,
        "OIDC_RP_CLIENT_SECRET": settings.OIDC_CLIENT_SECRET,
        "OIDC_RP_SCOPES": settings.OIDC_SCOPES,
        "OIDC_TIMEOUT": settings.OIDC_TIMEOUT,
        **FIXED,
    }
    if name in portal:
        return portal[name]
    return import_from_settings(name, *default)


class ProviderBackend(OIDCAuthenticationBackend):
    get_settings = staticmethod(library_setting)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Not the library's constructor yet: it reads the provider's endpoints, which would ask the
        # provider for them on every password sign-in and every request of a signed-in person.
        self.UserModel = get_user_model()

    def authenticate(self, request: HttpRequest | None, **kwargs: Any) -> User | None:
        # Only the callback view passes a nonce: a password form's credentials are not for this backend.
        if request is None or "nonce" not in kwargs or not settings.OIDC_ISSUER:
            return None
        super().__init__()
        return super().authenticate(request, **kwargs)

    def verify_token(self, token: str, **kwargs: Any) -> dict[str, Any]:
        # The library checks the signature, expiry and nonce; the issuer and audience are checked
        # here, so that a token the provider made for another application is refused.
        payload = super().verify_token(token, **kwargs)
        audience = payload.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if str(payload.get("iss", "")).rstrip("/") != settings.OIDC_ISSUER or settings.OIDC_CLIENT_ID not in audiences:
            raise SuspiciousOperation("The ID token was made by another issuer or for another client.")
        return payload

    def get_userinfo(self, access_token: str, id_token: str, payload: dict[str, Any]) -> dict[str, Any]:
        # The groups may be in the ID token (Entra ID) or only in the userinfo answer (Keycloak, Okta).
        claims = dict(payload)
        if self.OIDC_OP_USER_ENDPOINT:
            userinfo = super().get_userinfo(access_token, id_token, payload)
            if not isinstance(userinfo, dict) or userinfo.get("sub") != payload.get("sub"):
                raise SignInRefused(NOT_VERIFIED, "the userinfo answer is about another subject")
            claims.update(userinfo)
        return claims

    def verify_claims(self, claims: dict[str, Any]) -> bool:
        self.person = person_from_claims(claims, settings.OIDC_GROUPS_CLAIM)
        return True

    def filter_users_by_claims(self, claims: dict[str, Any]) -> Any:
        return self.UserModel.objects.filter(
            external_account__provider=ExternalAccount.Provider.OIDC, external_account__subject=self.person.subject
        )

    def create_user(self, claims: dict[str, Any]) -> User:
        person = self.person
        if self.UserModel.objects.filter(username__iexact=person.username).exists():
            raise SignInRefused(
                NAME_TAKEN.format(username=person.username), "the name is a local account's", person.username
            )
        grant = grant_for_person(person)
        # One transaction: a refusal below (a locked-out name) leaves no user behind.
        with transaction.atomic():
            user = self.UserModel.objects.create_user(person.username, email=person.email)
            ExternalAccount.objects.create(user=user, provider=ExternalAccount.Provider.OIDC, subject=person.subject)
            return self._signed_in(user, grant)

    def update_user(self, user: User, claims: dict[str, Any]) -> User:
        try:
            grant = grant_for_person(self.person, user)
        except SignInRefused:
            withdraw_roles(user)
            raise
        return self._signed_in(user, grant)

    def _signed_in(self, user: User, grant: Grant) -> User:
        username = user.get_username()
        if not user.is_active:
            raise SignInRefused(DISABLED, "the account is disabled", username)
        if AxesProxyHandler.is_locked(self.request, {"username": username}):
            raise SignInRefused(lockout_sentence(), "the account is locked out", username)
        # Name and email follow the provider at every sign-in.
        user.email, user.first_name, user.last_name = self.person.email, self.person.first_name, self.person.last_name
        user.save(update_fields=["email", "first_name", "last_name"])
        apply_grant(user, grant)
        mark_signed_in(user, PROVIDER, grant)
        return user


def grant_for_person(person: Person, user: User | None = None) -> Grant:
    try:
        return grant_for(person.groups)
    except SignInRefused as refusal:
        refusal.username = user.get_username() if user else person.username
        raise


class ProviderSignInStart(OIDCAuthenticationRequestView):
    get_settings = staticmethod(library_setting)


@require_GET
def start(request: HttpRequest) -> HttpResponse:
    """The sign-in page's button: off to the provider's own sign-in page."""
    if not settings.OIDC_ISSUER:
        raise Http404("Single sign-on is not configured.")
    try:
        provider_configuration()
    except ProviderUnavailable as refusal:
        record_failure(request, PROVIDER, refusal)
        return sign_in_problem(request, refusal.sentence, 502)
    return ProviderSignInStart.as_view()(request)


class ProviderCallbackView(OIDCAuthenticationCallbackView):
    """Where the provider sends the person back: every way it can fail ends on the sign-in page, in words."""

    get_settings = staticmethod(library_setting)

    def get(self, request: HttpRequest) -> HttpResponse:
        if not settings.OIDC_ISSUER:
            raise Http404("Single sign-on is not configured.")
        try:
            return super().get(request)
        except SignInRefused as refusal:
            return self.refuse(refusal)
        except requests.HTTPError as e:
            return self.refuse(_provider_refusal(e))
        except requests.RequestException as e:
            logger.warning("OpenID Connect sign-in: the provider could not be reached: %s", e)
            return self.refuse(ProviderUnavailable(UNREACHABLE, f"the provider could not be reached ({e})"))
        except (SuspiciousOperation, jwt.PyJWTError, KeyError, TypeError, ValueError) as e:
            logger.warning("OpenID Connect sign-in refused: %s", e)
            return self.refuse(SignInRefused(NOT_VERIFIED, f"the answer could not be verified ({e})"), 400)

    def login_failure(self) -> HttpResponse:
        # The provider answered with an error (the person cancelled, or it refused them), or this
        # browser's session holds no sign-in under way (it expired, or the link was opened elsewhere).
        error = self.request.GET.get("error", "")[:64]
        return self.refuse(SignInRefused(NOT_COMPLETED, f"not completed ({error or 'no sign-in under way'})"), 400)

    def login_success(self) -> HttpResponse:
        response = super().login_success()
        self.request.session[SIGNED_IN_WITH] = ExternalAccount.Provider.OIDC
        return response

    def refuse(self, refusal: SignInRefused, status: int | None = None) -> HttpResponse:
        # 502 when the provider is the trouble, 403 when the person is refused.
        status = status or (502 if isinstance(refusal, ProviderUnavailable) else 403)
        record_failure(self.request, PROVIDER, refusal)
        return sign_in_problem(self.request, refusal.sentence, status)


def _provider_refusal(error: requests.HTTPError) -> SignInRefused:
    """The token endpoint's "no", told apart: the portal's credentials, or a code that expired."""
    response = error.response
    status = response.status_code if response is not None else None
    try:
        code = response.json().get("error") if response is not None else None
    except ValueError:
        code = None
    logger.warning("OpenID Connect sign-in: the provider answered %s (%s)", status, code or "no error code")
    if status == 401 or code == "invalid_client":
        return ProviderUnavailable(CREDENTIALS_REFUSED, f"the provider refused the client credentials ({status})")
    if code == "invalid_grant":
        return SignInRefused(CODE_REFUSED, "the provider refused the code (expired or used)")
    return ProviderUnavailable(UNREACHABLE, f"the provider answered {status}")


def provider_sign_out_url(request: HttpRequest) -> str | None:
    """The provider's sign-out page, for a session that signed in with it, when it offers one."""
    if request.session.get(SIGNED_IN_WITH) != ExternalAccount.Provider.OIDC or not settings.OIDC_ISSUER:
        return None
    try:
        endpoint = provider_configuration().get("end_session_endpoint")
    except ProviderUnavailable:
        return None
    if not endpoint:
        return None
    # https://openid.net/specs/openid-connect-rpinitiated-1_0.html#RPLogout
    params = {
        "client_id": settings.OIDC_CLIENT_ID,
        "post_logout_redirect_uri": request.build_absolute_uri(reverse("login")),
    }
    if request.session.get(ID_TOKEN_SESSION_KEY):
        params["id_token_hint"] = request.session[ID_TOKEN_SESSION_KEY]
    return f"{endpoint}{'&' if '?' in endpoint else '?'}{urlencode(params)}"
