"""Sign-ins, failed sign-ins, lockouts and sign-outs, from Django's and django-axes' signals."""

from typing import Any

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest

from audit.trail import Action, record


@receiver(user_logged_in)
def signed_in(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    # A single sign-on names its provider and the groups that granted the role (identity/outcomes.py).
    detail = getattr(user, "sign_in_detail", "")
    record(Action.SIGNED_IN, request=request, actor=user.get_username(), detail=detail)


@receiver(user_login_failed)
def sign_in_failed(sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any) -> None:
    # A refused attempt of a locked-out username is the lockout's event, recorded below; axes has
    # marked the request by now (audit comes after axes in INSTALLED_APPS, so this runs after its
    # handler). Only the username is kept: the credentials also hold the password.
    if getattr(request, "axes_locked_out", False):
        return
    username = str(credentials.get("username") or "")
    # A refused single sign-on says why (identity/outcomes.py); a password form's failure is a wrong password.
    detail = kwargs.get("reason") or "Wrong username or password"
    record(Action.SIGN_IN_FAILED, request=request, actor=username, detail=detail)


@receiver(user_locked_out)
def locked_out(sender: Any, request: HttpRequest | None, username: str | None, **kwargs: Any) -> None:
    record(Action.LOCKED_OUT, request=request, actor=username or "", detail="Too many failed sign-ins")


@receiver(user_logged_out)
def signed_out(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    # A sign-out without a session (user is None) changed nothing worth recording.
    if user is not None:
        record(Action.SIGNED_OUT, request=request, actor=user.get_username())
