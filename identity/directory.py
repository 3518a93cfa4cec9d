"""LDAP and Active Directory sign-in through django-auth-ldap, configured from LDAP_* (portal/settings.py).

Imported only when LDAP_SERVER_URI is set: python-ldap needs system headers to build, so it is not
among the runtime requirements (requirements-ldap.txt; `manage.py check` says when it is missing).
"""

from typing import Any

import ldap
from django.conf import settings
from django.contrib.auth.models import User
from django.dispatch import receiver
from django_auth_ldap.backend import LDAPBackend, ldap_error
from django_auth_ldap.config import LDAPSearch, MemberDNGroupType

from identity.models import ExternalAccount
from identity.outcomes import mark_signed_in
from identity.refusals import NAME_TAKEN, ProviderUnavailable, SignInRefused
from identity.roles import Grant, apply_grant, grant_for, withdraw_roles
from identity.signin import DIRECTORY

UNREACHABLE = (
    "The directory could not be reached, so you cannot sign in with your directory account right now. "
    "Try again in a few minutes; if it keeps happening, tell an administrator."
)
# OpenLDAP's groupOfNames and Active Directory's group both list their members' DNs in `member`.
GROUP_FILTER = "(|(objectClass=groupOfNames)(objectClass=group))"
# Seconds to connect, and to wait for each answer: a directory that hangs must not hold the sign-in page.
CONNECT_TIMEOUT = 5
ANSWER_TIMEOUT = 10


class DirectoryBackend(LDAPBackend):
    grant: Grant

    @property
    def default_settings(self) -> dict[str, Any]:
        """django-auth-ldap's settings, from the portal's LDAP_* ones, read at each sign-in."""
        options: dict[int, Any] = {ldap.OPT_NETWORK_TIMEOUT: CONNECT_TIMEOUT, ldap.OPT_TIMEOUT: ANSWER_TIMEOUT}
        if settings.LDAP_CA_FILE:
            # A new TLS context must come last, after the options it is made from.
            options.update({ldap.OPT_X_TLS_CACERTFILE: settings.LDAP_CA_FILE, ldap.OPT_X_TLS_NEWCTX: 0})
        return {
            "SERVER_URI": settings.LDAP_SERVER_URI,
            "BIND_DN": settings.LDAP_BIND_DN,
            "BIND_PASSWORD": settings.LDAP_BIND_PASSWORD,
            "START_TLS": settings.LDAP_START_TLS,
            "CONNECTION_OPTIONS": options,
            "USER_SEARCH": LDAPSearch(settings.LDAP_USER_SEARCH, ldap.SCOPE_SUBTREE, settings.LDAP_USER_FILTER),
            "GROUP_SEARCH": LDAPSearch(settings.LDAP_GROUP_SEARCH, ldap.SCOPE_SUBTREE, GROUP_FILTER),
            "GROUP_TYPE": MemberDNGroupType(member_attr="member", name_attr="cn"),
            # Name and email follow the directory at every sign-in.
            "USER_ATTR_MAP": {"first_name": "givenName", "last_name": "sn", "email": "mail"},
            "ALWAYS_UPDATE_USER": True,
        }

    def get_or_build_user(self, username: str, ldap_user: Any) -> tuple[User, bool]:
        """The user linked to this directory account, or a new one; refused before anything is stored."""
        subject = username.lower()
        account = ExternalAccount.objects.filter(provider=ExternalAccount.Provider.LDAP, subject=subject).first()
        user = account.user if account else None
        try:
            self.grant = grant_for(ldap_user.group_names)
        except SignInRefused as refusal:
            if user is not None:
                withdraw_roles(user)
            refusal.username = username
            raise
        if user is not None:
            return user, False
        if User.objects.filter(username__iexact=subject).exists():
            raise SignInRefused(NAME_TAKEN.format(username=username), "the name is a local account's", username)
        return User(username=subject), True

    def authenticate_ldap_user(self, ldap_user: Any, password: str) -> User | None:
        user = super().authenticate_ldap_user(ldap_user, password)
        if user is None:
            return None
        ExternalAccount.objects.get_or_create(
            user=user, defaults={"provider": ExternalAccount.Provider.LDAP, "subject": user.get_username().lower()}
        )
        apply_grant(user, self.grant)
        mark_signed_in(user, DIRECTORY, self.grant)
        return user


@receiver(ldap_error, sender=DirectoryBackend)
def directory_failed(sender: Any, context: str, exception: Exception, **kwargs: Any) -> None:
    # django-auth-ldap would log this and answer "wrong password"; raised here, it reaches the
    # sign-in form, which says the directory could not be reached.
    raise ProviderUnavailable(UNREACHABLE, f"the directory could not be reached ({type(exception).__name__})")
