from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from identity.signin import only_with_email
from management_api import metrics
from management_api.api import api

# Django's password reset pages, at django.contrib.auth.urls' paths, which exist only when email is configured.
PASSWORD_RESET_PAGES = [
    ("accounts/password_reset/", auth_views.PasswordResetView.as_view(), "password_reset"),
    ("accounts/password_reset/done/", auth_views.PasswordResetDoneView.as_view(), "password_reset_done"),
    ("accounts/reset/<uidb64>/<token>/", auth_views.PasswordResetConfirmView.as_view(), "password_reset_confirm"),
    ("accounts/reset/done/", auth_views.PasswordResetCompleteView.as_view(), "password_reset_complete"),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    # Browsers ask for /favicon.ico on pages that name no icon (the admin's, the API docs).
    path("favicon.ico", RedirectView.as_view(url=static("portal/favicon.svg"), permanent=True)),
    # django.contrib.auth.urls, but for signing in and out (identity/: single sign-on, the break-glass
    # page) and the reset pages (PASSWORD_RESET_PAGES, below).
    path("accounts/", include("identity.urls")),
    path("accounts/password_change/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/password_change/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    # The embedded management API, at the paths a real AutoQL domain serves it.
    path("autoql/management/api/v1/notifications/", api.urls),
    # The built-in receiver for demos (see demo_receiver/views.py).
    path("demo/receiver/", include("demo_receiver.urls")),
    # Prometheus, with its own bearer token (METRICS_TOKEN); /healthz and /readyz are answered by
    # management_api.health.HealthChecksMiddleware, ahead of host checks and the HTTPS redirect.
    path("metrics", metrics.metrics, name="metrics"),
    # The audit trail, for managers.
    path("activity/", include("audit.urls")),
    path("", include("webhooks_app.urls")),
]
urlpatterns += [path(route, only_with_email(view), name=name) for route, view, name in PASSWORD_RESET_PAGES]

if settings.BENCH_FLOOR_VIEWS:  # benchmarks/bench.py's floors; never in production
    from portal.bench_floor import insert_one_row, signed_in_logs, signed_in_nothing

    urlpatterns += [
        path("bench/floor/insert-one-row", insert_one_row, name="bench_floor_insert"),
        path("bench/floor/signed-in-nothing", signed_in_nothing, name="bench_floor_signed_in"),
        path("bench/floor/signed-in-logs", signed_in_logs, name="bench_floor_signed_in_logs"),
    ]

handler400 = "webhooks_app.errors.bad_request"
handler403 = "webhooks_app.errors.permission_denied"
handler404 = "webhooks_app.errors.page_not_found"
handler500 = "webhooks_app.errors.server_error"
