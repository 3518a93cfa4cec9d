"""Signing out: the portal's session ends, and the provider's too when the person signed in with it."""

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from identity.oidc import provider_sign_out_url


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    # Read before logout() empties the session that says how the person signed in.
    provider_page = provider_sign_out_url(request)
    logout(request)
    return redirect(provider_page or settings.LOGOUT_REDIRECT_URL)
