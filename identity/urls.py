from django.urls import path

from identity import oidc, signin, signout

urlpatterns = [
    path("login/", signin.SignInView.as_view(), name="login"),
    # The break-glass way in for local accounts when PASSWORD_SIGN_IN=false hides the form above.
    path("login/local/", signin.SignInView.as_view(break_glass=True), name="login_local"),
    path("logout/", signout.sign_out, name="logout"),
    # OpenID Connect: the button's target, and the redirect URL registered with the provider.
    path("oidc/start/", oidc.start, name="oidc_start"),
    path("oidc/callback/", oidc.ProviderCallbackView.as_view(), name="oidc_callback"),
]
