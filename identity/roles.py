"""Roles from groups: the one place that turns a person's directory or token groups into the
portal's roles, at every single sign-on (SSO_MANAGER_GROUPS, SSO_VIEWER_GROUPS, SSO_STAFF_GROUPS).

The portal's roles are Django's: a manager holds the permission webhooks_app.manage_webhooks, a
viewer is any other signed-in user, and is_staff opens /admin/. A single sign-on never makes a
superuser: the groups decide everything an SSO account may do.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import Permission, User

from identity.refusals import SignInRefused

NO_MAPPED_GROUP = (
    "You are not in any group that may use this portal, so you cannot sign in. Ask an administrator to add you to one."
)


@dataclass(frozen=True)
class Grant:
    """What a person's groups grant: each role with the groups that granted it."""

    manager: tuple[str, ...]
    viewer: tuple[str, ...]
    staff: tuple[str, ...]

    def describe(self) -> str:
        """For the audit trail: "manager (group portal-managers); staff (group portal-admins)"."""
        viewer = () if self.manager else self.viewer  # a manager is a viewer too: said once
        roles = [("manager", self.manager), ("viewer", viewer), ("staff", self.staff)]
        return "; ".join(f"{role} ({_groups(groups)})" for role, groups in roles if groups)


def _groups(names: tuple[str, ...]) -> str:
    return f"{'groups' if len(names) > 1 else 'group'} {', '.join(names)}"


def _matching(groups: list[str], mapped: list[str]) -> tuple[str, ...]:
    # Directory group names are compared without regard to case, as LDAP and Active Directory do.
    wanted = {name.strip().casefold() for name in mapped if name.strip()}
    return tuple(group for group in groups if group.casefold() in wanted)


def grant_for(groups: Iterable[str]) -> Grant:
    """The roles these groups grant; SignInRefused when they grant none."""
    names = sorted({group for group in groups if isinstance(group, str)})
    grant = Grant(
        manager=_matching(names, settings.SSO_MANAGER_GROUPS),
        viewer=_matching(names, settings.SSO_VIEWER_GROUPS),
        staff=_matching(names, settings.SSO_STAFF_GROUPS),
    )
    if not (grant.manager or grant.viewer or grant.staff):
        raise SignInRefused(NO_MAPPED_GROUP, f"in no mapped group (groups: {', '.join(names) or 'none'})")
    return grant


def manage_permission() -> Permission:
    return Permission.objects.get(content_type__app_label="webhooks_app", codename="manage_webhooks")


def apply_grant(user: User, grant: Grant) -> None:
    """Gives the user exactly the roles of the grant, taking away those it no longer has."""
    user.is_staff = bool(grant.staff)
    user.is_superuser = False
    user.save(update_fields=["is_staff", "is_superuser"])
    if grant.manager:
        user.user_permissions.add(manage_permission())
    else:
        user.user_permissions.remove(manage_permission())


def withdraw_roles(user: User) -> None:
    """Someone refused at sign-in keeps no role from an earlier one (a session still open ends idle)."""
    apply_grant(user, Grant(manager=(), viewer=(), staff=()))
