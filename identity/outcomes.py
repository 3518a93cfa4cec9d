"""How single sign-ons reach the audit trail: the one place that says what to record.

A success is recorded by the audit app's sign-in receiver (one event per sign-in), with the detail
set here on the user; a failure goes through Django's user_login_failed signal when the person is
known, so that django-axes counts it toward their lockout as it counts a wrong password.
"""

from django.contrib.auth.models import User
from django.contrib.auth.signals import user_login_failed
from django.http import HttpRequest

from audit.signals import VOUCHED_FOR
from audit.trail import Action, record
from identity.refusals import SignInRefused
from identity.roles import Grant

# Read by audit.signals.signed_in for the event's detail.
SIGN_IN_DETAIL = "sign_in_detail"


def mark_signed_in(user: User, provider: str, grant: Grant) -> None:
    """The provider and the groups that granted the role, for the sign-in event about to be recorded."""
    setattr(user, SIGN_IN_DETAIL, f"{provider}: {grant.describe()}")


def record_failure(request: HttpRequest, provider: str, refusal: SignInRefused, typed_username: str = "") -> None:
    """One failed sign-in. A name the provider or the directory vouched for (the refusal's) is the
    person's; a name only typed in the form is kept only if it names a user of the portal
    (audit.signals), since it may be a password typed in the wrong box."""
    detail = f"{provider}: {refusal.reason}"
    if refusal.username:
        credentials = {"username": refusal.username, VOUCHED_FOR: True}
    elif typed_username:
        credentials = {"username": typed_username}
    else:
        record(Action.SIGN_IN_FAILED, request=request, detail=detail)
        return
    user_login_failed.send(sender=__name__, credentials=credentials, request=request, reason=detail)
