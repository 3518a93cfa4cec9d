"""`manage.py check` stops on half-configured single sign-on with a sentence naming what is missing,
and passes with none at all (make run as before) or a whole configuration."""

import os
import subprocess
import sys

import pytest
from django.conf import settings

from identity.checks import single_sign_on_settings

SSO_NAMES = ("OIDC_", "LDAP_", "SSO_", "PASSWORD_SIGN_IN")
OIDC = {"OIDC_ISSUER": "https://login.example.com/realms/staff", "OIDC_CLIENT_ID": "portal", "OIDC_CLIENT_SECRET": "s3"}
LDAP = {
    "LDAP_SERVER_URI": "ldap://ldap.example.com",
    "LDAP_USER_SEARCH": "ou=people,dc=example,dc=com",
    "LDAP_GROUP_SEARCH": "ou=groups,dc=example,dc=com",
}
GROUPS = {"SSO_VIEWER_GROUPS": "staff"}


def manage_check(**env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(SSO_NAMES)}
    environment.update(DJANGO_SETTINGS_MODULE="portal.settings", **env)
    command = [sys.executable, "manage.py", "check"]
    return subprocess.run(command, cwd=settings.BASE_DIR, env=environment, capture_output=True, text=True)


def test_without_single_sign_on_the_check_passes():
    done = manage_check()
    assert done.returncode == 0, done.stderr


def test_a_whole_configuration_passes():
    done = manage_check(**OIDC, **LDAP, **GROUPS, PASSWORD_SIGN_IN="false")
    assert done.returncode == 0, done.stderr


HALF_CONFIGURED = {
    "an issuer without a client id": (
        {**OIDC, "OIDC_CLIENT_ID": "", **GROUPS},
        "OIDC_ISSUER is set, but OIDC_CLIENT_ID is not.",
    ),
    "an issuer without a secret": (
        {**OIDC, "OIDC_CLIENT_SECRET": "", **GROUPS},
        "OIDC_ISSUER is set, but OIDC_CLIENT_SECRET is not.",
    ),
    "a client id without an issuer": ({"OIDC_CLIENT_ID": "portal"}, "OIDC_CLIENT_ID is set, but OIDC_ISSUER is not."),
    "an issuer that is not a URL": ({**OIDC, "OIDC_ISSUER": "login.example.com", **GROUPS}, "OIDC_ISSUER is not a URL"),
    "scopes without openid": ({**OIDC, "OIDC_SCOPES": "email", **GROUPS}, "OIDC_SCOPES lacks the scope openid."),
    "a bind DN without a server": ({"LDAP_BIND_DN": "cn=portal"}, "LDAP_BIND_DN is set, but LDAP_SERVER_URI is not."),
    "a server without a user search": (
        {**LDAP, "LDAP_USER_SEARCH": "", **GROUPS},
        "LDAP_SERVER_URI is set, but LDAP_USER_SEARCH is not.",
    ),
    "a server without a group search": (
        {**LDAP, "LDAP_GROUP_SEARCH": "", **GROUPS},
        "LDAP_SERVER_URI is set, but LDAP_GROUP_SEARCH is not.",
    ),
    "a bind DN without its password": (
        {**LDAP, "LDAP_BIND_DN": "cn=portal", **GROUPS},
        "LDAP_BIND_DN is set, but LDAP_BIND_PASSWORD is not.",
    ),
    "a user filter without the name": (
        {**LDAP, "LDAP_USER_FILTER": "(uid=alice)", **GROUPS},
        "LDAP_USER_FILTER lacks %(user)s",
    ),
    "single sign-on without any group": (OIDC, "no group is mapped to a role, so everyone would be refused"),
    "groups without single sign-on": (GROUPS, "SSO_VIEWER_GROUPS set, but neither OIDC_ISSUER nor LDAP_SERVER_URI is."),
    "no password form and no single sign-on": ({"PASSWORD_SIGN_IN": "false"}, "PASSWORD_SIGN_IN is false, but no"),
}


@pytest.mark.parametrize("env,sentence", HALF_CONFIGURED.values(), ids=HALF_CONFIGURED.keys())
def test_a_half_configured_setting_stops_the_check_naming_what_is_missing(settings, env, sentence):
    # The same checks manage.py runs, on these settings (one subprocess below proves they run there).
    for name in ("OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET", "LDAP_BIND_DN", "LDAP_BIND_PASSWORD"):
        setattr(settings, name, "")
    for name in ("SSO_MANAGER_GROUPS", "SSO_VIEWER_GROUPS", "SSO_STAFF_GROUPS"):
        setattr(settings, name, [])
    settings.OIDC_ISSUER = settings.LDAP_SERVER_URI = settings.LDAP_USER_SEARCH = settings.LDAP_GROUP_SEARCH = ""
    settings.PASSWORD_SIGN_IN = True
    for name, value in env.items():
        if name.startswith("SSO_"):
            value = value.split(",")
        elif name == "PASSWORD_SIGN_IN":
            value = value == "true"
        setattr(settings, name, value)
    messages = [message.msg for message in single_sign_on_settings(None)]
    assert any(sentence in message for message in messages), messages


def test_manage_py_check_stops_on_a_half_configuration():
    done = manage_check(OIDC_ISSUER="https://login.example.com", SSO_VIEWER_GROUPS="staff")
    assert done.returncode != 0
    assert "OIDC_ISSUER is set, but OIDC_CLIENT_ID is not." in done.stderr


def test_settings_do_no_network_io_even_for_a_provider_that_does_not_exist():
    # An issuer that cannot resolve: discovery happens at the first sign-in, never when settings load.
    done = manage_check(**{**OIDC, "OIDC_ISSUER": "https://idp.invalid"}, **GROUPS)
    assert done.returncode == 0, done.stderr


def test_ldap_without_django_auth_ldap_says_what_to_install(settings, monkeypatch):
    import importlib.util

    found = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None if name == "django_auth_ldap" else found(name))
    for name, value in LDAP.items():
        setattr(settings, name, value)
    settings.SSO_VIEWER_GROUPS = ["staff"]
    errors = single_sign_on_settings(None)
    assert [error.msg for error in errors] == ["LDAP_SERVER_URI is set, but django-auth-ldap is not installed."]
    assert "pip install -r requirements-ldap.txt" in (errors[0].hint or "")
