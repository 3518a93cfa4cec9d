"""Signing in: the lockout page after too many wrong passwords, and password reset only with email."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render


def lockout_sentence() -> str:
    minutes = round(settings.AXES_COOLOFF_TIME.total_seconds() / 60)
    duration = "1 minute" if minutes == 1 else f"{minutes} minutes"
    return f"Too many failed sign-ins: this account is locked for {duration}. Ask an administrator to unlock it sooner."


def password_reset_offered() -> bool:
    """Reset links go out by email, so without a mail server there is nothing to offer."""
    return bool(settings.EMAIL_HOST)


def locked_out(request: HttpRequest, response: HttpResponse | None, credentials: dict | None) -> HttpResponse:
    """django-axes' lockout answer, as the portal's own sign-in page (AXES_LOCKOUT_CALLABLE)."""
    username = request.POST.get("username", "") if request.method == "POST" else ""
    context = {
        "form": AuthenticationForm(request, initial={"username": username}),
        "locked_out": lockout_sentence(),
        "next": request.POST.get("next", ""),
        "password_reset_offered": password_reset_offered(),
    }
    return render(request, "registration/login.html", context, status=429)


class SignInView(auth_views.LoginView):
    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {**super().get_context_data(**kwargs), "password_reset_offered": password_reset_offered()}


def only_with_email(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """A password reset page that does not exist until email is configured (EMAIL_URL)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not password_reset_offered():
            raise Http404("Password reset needs email, which is not configured.")
        return view(request, *args, **kwargs)

    return wrapper
