"""Signing out: the portal's session ends, and the provider's too when the person signed in with it."""

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from identity.oidc import provider_sign_out_url


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    # Read before logout() empties the session that says how the person signed in.
    provider_page = provider_sign_out_url(request)
    logout(request)
    if provider_page is None:
        return redirect(settings.LOGOUT_REDIRECT_URL)
    # A page that moves on to the provider, not a redirect: the sign-out form's page allows forms
    # to go nowhere but the portal (CSP form-action 'self'), and browsers apply that to redirects.
    return render(request, "identity/signing_out.html", {"provider_page": provider_page})
