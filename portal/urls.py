from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from management_api import demo, metrics
from management_api.api import api

urlpatterns = [
    path("admin/", admin.site.urls),
    # Browsers ask for /favicon.ico on pages that name no icon (the admin's, the API docs).
    path("favicon.ico", RedirectView.as_view(url=static("portal/favicon.svg"), permanent=True)),
    path("accounts/", include("django.contrib.auth.urls")),
    # The embedded management API, at the paths a real AutoQL domain serves it.
    path("autoql/management/api/v1/notifications/", api.urls),
    # The built-in receiver for demos (see management_api/demo.py).
    path("demo/receiver/", demo.receipts, name="demo_receipts"),
    path("demo/receiver/<str:environment>", demo.receive, name="demo_receiver"),
    # Prometheus, with its own bearer token (METRICS_TOKEN); /healthz and /readyz are answered by
    # management_api.health.HealthChecksMiddleware, ahead of host checks and the HTTPS redirect.
    path("metrics", metrics.metrics, name="metrics"),
    path("", include("webhooks_app.urls")),
]

handler400 = "webhooks_app.errors.bad_request"
handler403 = "webhooks_app.errors.permission_denied"
handler404 = "webhooks_app.errors.page_not_found"
handler500 = "webhooks_app.errors.server_error"
