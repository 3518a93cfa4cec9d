"""Sign-ins, failed sign-ins, lockouts and sign-outs, from Django's and django-axes' signals."""

from typing import Any

from axes.signals import user_locked_out
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest

from audit.trail import Action, record

# What a sign-in that names no user is recorded as. No user can be called this: Django's username
# validator allows no space.
UNKNOWN_USER = "unknown user"


def known_username(username: str | None) -> str:
    """The username if a user has it, UNKNOWN_USER otherwise.

    What is typed in the username box is often a password typed in the wrong box: kept as it is,
    it would be shown to every manager on the Activity page and written to the process log.
    """
    if not username or "\x00" in username:
        # PostgreSQL cannot even compare text with NUL; no username holds one.
        return UNKNOWN_USER
    users = get_user_model()._default_manager
    return username if users.filter(**{get_user_model().USERNAME_FIELD: username}).exists() else UNKNOWN_USER


# In the credentials of a refused single sign-on whose name the identity provider or the directory
# vouched for (identity/outcomes.py): a verified name, not something typed in a box.
VOUCHED_FOR = "vouched_for"


def attempted_username(request: HttpRequest | None, credentials: dict[str, Any] | None) -> str:
    """django-axes' AXES_USERNAME_CALLABLE: its attempts, lockouts and log lines name known users only.

    Sign-ins with usernames that name no user are therefore counted together, per address; a name
    the identity provider vouched for is a person's, and counts as theirs.
    """
    if credentials is not None and credentials.get(VOUCHED_FOR):
        return str(credentials.get("username") or UNKNOWN_USER)
    if credentials is not None:
        username = credentials.get("username")
    else:
        username = request.POST.get("username") if request is not None else None
    return known_username(str(username) if username is not None else None)


@receiver(user_logged_in)
def signed_in(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    # A single sign-on names its provider and the groups that granted the role (identity/outcomes.py).
    detail = getattr(user, "sign_in_detail", "")
    record(Action.SIGNED_IN, request=request, actor=user.get_username(), detail=detail)


@receiver(user_login_failed)
def sign_in_failed(sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any) -> None:
    # A refused attempt of a locked-out username is the lockout's event, recorded below; axes has
    # marked the request by now (audit comes after axes in INSTALLED_APPS, so this runs after its
    # handler). The credentials also hold the password, so only a known username is kept.
    if getattr(request, "axes_locked_out", False):
        return
    actor = attempted_username(request, credentials)
    # A refused single sign-on says why (identity/outcomes.py); a password form's failure is a wrong password.
    detail = kwargs.get("reason") or "Wrong username or password"
    record(Action.SIGN_IN_FAILED, request=request, actor=actor, detail=detail)


@receiver(user_locked_out)
def locked_out(sender: Any, request: HttpRequest | None, username: str | None, **kwargs: Any) -> None:
    record(Action.LOCKED_OUT, request=request, actor=known_username(username), detail="Too many failed sign-ins")


@receiver(user_logged_out)
def signed_out(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    # A sign-out without a session (user is None) changed nothing worth recording.
    if user is not None:
        record(Action.SIGNED_OUT, request=request, actor=user.get_username())
