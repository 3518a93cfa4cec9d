"""Signing in: the sign-in page (single sign-on, the password form, and the break-glass page for
local accounts), the lockout page after too many wrong passwords, password reset only with email."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render

from identity.outcomes import record_failure
from identity.refusals import SignInRefused

# The directory's name in the audit trail.
DIRECTORY = "LDAP directory"


def lockout_sentence() -> str:
    minutes = round(settings.AXES_COOLOFF_TIME.total_seconds() / 60)
    duration = "1 minute" if minutes == 1 else f"{minutes} minutes"
    return f"Too many failed sign-ins: this account is locked for {duration}. Ask an administrator to unlock it sooner."


def password_reset_offered() -> bool:
    """Reset links go out by email, so without a mail server there is nothing to offer."""
    return bool(settings.EMAIL_HOST)


def sign_in_options(break_glass: bool = False) -> dict[str, Any]:
    """What the sign-in page offers: the provider's button, the password form, the reset link.

    The password form stays when an LDAP directory checks its passwords; PASSWORD_SIGN_IN=false
    hides it otherwise, and the break-glass page (/accounts/login/local/) always shows it.
    """
    return {
        "oidc_label": settings.OIDC_LABEL if settings.OIDC_ISSUER and not break_glass else "",
        "password_form_shown": break_glass or settings.PASSWORD_SIGN_IN or bool(settings.LDAP_SERVER_URI),
        "directory": bool(settings.LDAP_SERVER_URI) and not break_glass,
        "break_glass": break_glass,
        "password_reset_offered": password_reset_offered(),
    }


def locked_out(request: HttpRequest, response: HttpResponse | None, credentials: dict | None) -> HttpResponse:
    """django-axes' lockout answer, as the portal's own sign-in page (AXES_LOCKOUT_CALLABLE)."""
    username = request.POST.get("username", "") if request.method == "POST" else ""
    return _sign_in_page(request, username, lockout_sentence(), 429)


def sign_in_problem(request: HttpRequest, problem: str, status: int) -> HttpResponse:
    """The sign-in page again, saying in plain words why the single sign-on did not sign the person in."""
    return _sign_in_page(request, "", problem, status)


def _sign_in_page(request: HttpRequest, username: str, problem: str, status: int) -> HttpResponse:
    context = {
        "form": AuthenticationForm(request, initial={"username": username}),
        "problem": problem,
        "next": request.POST.get("next", "") if request.method == "POST" else "",
        # A lockout met on the break-glass page answers with that page.
        **sign_in_options(break_glass=getattr(request.resolver_match, "url_name", "") == "login_local"),
    }
    return render(request, "registration/login.html", context, status=status)


class SignInForm(AuthenticationForm):
    """The password form; a directory that is down or refuses the person says so, not "wrong password"."""

    def clean(self) -> dict[str, Any]:
        try:
            return super().clean()
        except SignInRefused as refusal:
            if self.request is not None:
                typed = self.cleaned_data.get("username", "")
                record_failure(self.request, DIRECTORY, refusal, typed_username=typed)
            raise ValidationError(refusal.sentence, code="refused")


class SignInView(auth_views.LoginView):
    form_class = SignInForm
    break_glass = False

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {**super().get_context_data(**kwargs), **sign_in_options(self.break_glass)}


def only_with_email(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """A password reset page that does not exist until email is configured (EMAIL_URL)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not password_reset_offered():
            raise Http404("Password reset needs email, which is not configured.")
        return view(request, *args, **kwargs)

    return wrapper
