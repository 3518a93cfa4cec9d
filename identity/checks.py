"""`manage.py check` (and every command that runs the checks, such as migrate) stops on single
sign-on settings that are half there, with a sentence naming what is missing."""

import importlib.util
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import CheckMessage, Error, register

LDAP_INSTALL = (
    "pip install -r requirements-ldap.txt -c constraints.txt (python-ldap builds against Debian's "
    "libldap2-dev and libsasl2-dev: apt-get install libldap2-dev libsasl2-dev)"
)
ROLE_GROUPS = ("SSO_MANAGER_GROUPS", "SSO_VIEWER_GROUPS", "SSO_STAFF_GROUPS")


def _set(*names: str) -> list[str]:
    return [name for name in names if getattr(settings, name)]


def _without(given: list[str], missing: str, hint: str, number: int) -> Error:
    verb = "is" if len(given) == 1 else "are"
    return Error(f"{' and '.join(given)} {verb} set, but {missing} is not.", hint=hint, id=f"identity.E{number:03d}")


def _oidc_problems() -> list[CheckMessage]:
    if not settings.OIDC_ISSUER:
        given = _set("OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET")
        return [_without(given, "OIDC_ISSUER", "Set OIDC_ISSUER to the provider's issuer URL.", 1)] if given else []
    problems: list[CheckMessage] = [
        _without(["OIDC_ISSUER"], name, f"Set {name} to what the provider gave when this portal was registered.", 2)
        for name in ("OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET")
        if not getattr(settings, name)
    ]
    parts = urlsplit(settings.OIDC_ISSUER)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        hint = "Write it as the provider shows it, e.g. https://login.example.com/realms/staff."
        problems.append(Error(f"OIDC_ISSUER is not a URL: {settings.OIDC_ISSUER!r}.", hint=hint, id="identity.E003"))
    if "openid" not in settings.OIDC_SCOPES.split():
        hint = "Keep openid in OIDC_SCOPES (the default is: openid email profile)."
        problems.append(Error("OIDC_SCOPES lacks the scope openid.", hint=hint, id="identity.E004"))
    return problems


def _ldap_problems() -> list[CheckMessage]:
    if not settings.LDAP_SERVER_URI:
        given = _set("LDAP_BIND_DN", "LDAP_BIND_PASSWORD", "LDAP_USER_SEARCH", "LDAP_GROUP_SEARCH")
        hint = "Set LDAP_SERVER_URI to the directory's address, e.g. ldap://ldap.example.com."
        return [_without(given, "LDAP_SERVER_URI", hint, 5)] if given else []
    problems: list[CheckMessage] = [
        _without(["LDAP_SERVER_URI"], name, f"Set {name} to the base DN to search under.", 6)
        for name in ("LDAP_USER_SEARCH", "LDAP_GROUP_SEARCH")
        if not getattr(settings, name)
    ]
    bind = _set("LDAP_BIND_DN", "LDAP_BIND_PASSWORD")
    if len(bind) == 1:
        missing = "LDAP_BIND_PASSWORD" if bind == ["LDAP_BIND_DN"] else "LDAP_BIND_DN"
        problems.append(_without(bind, missing, "Set both to bind as the portal's account, or neither.", 7))
    if "%(user)s" not in settings.LDAP_USER_FILTER:
        hint = "For example (uid=%(user)s), or (sAMAccountName=%(user)s) for Active Directory."
        problems.append(Error("LDAP_USER_FILTER lacks %(user)s, the name typed.", hint=hint, id="identity.E008"))
    if not all(importlib.util.find_spec(module) for module in ("ldap", "django_auth_ldap")):
        sentence = "LDAP_SERVER_URI is set, but django-auth-ldap is not installed."
        problems.append(Error(sentence, hint=LDAP_INSTALL, id="identity.E009"))
    return problems


def _role_problems() -> list[CheckMessage]:
    mapped = _set(*ROLE_GROUPS)
    configured = settings.OIDC_ISSUER or settings.LDAP_SERVER_URI
    if configured and not mapped:
        sentence = "Single sign-on is configured, but no group is mapped to a role, so everyone would be refused."
        hint = f"Set {', '.join(ROLE_GROUPS)} (comma-separated group names)."
        return [Error(sentence, hint=hint, id="identity.E010")]
    if mapped and not configured:
        sentence = f"{' and '.join(mapped)} set, but neither OIDC_ISSUER nor LDAP_SERVER_URI is."
        hint = "Configure OpenID Connect or LDAP (README, Single sign-on), or unset them."
        return [Error(sentence, hint=hint, id="identity.E011")]
    if not settings.PASSWORD_SIGN_IN and not configured:
        sentence = "PASSWORD_SIGN_IN is false, but no single sign-on (OIDC_ISSUER or LDAP_SERVER_URI) is configured."
        hint = "Configure single sign-on, or set PASSWORD_SIGN_IN=true."
        return [Error(sentence, hint=hint, id="identity.E012")]
    return []


@register()
def single_sign_on_settings(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    return _oidc_problems() + _ldap_problems() + _role_problems()
