from django.contrib import admin
from django.urls import include, path

from management_api.api import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    # The embedded management API, at the paths a real AutoQL domain serves it.
    path("autoql/management/api/v1/notifications/", api.urls),
    path("", include("webhooks_app.urls")),
]

handler400 = "webhooks_app.errors.bad_request"
handler403 = "webhooks_app.errors.permission_denied"
handler404 = "webhooks_app.errors.page_not_found"
handler500 = "webhooks_app.errors.server_error"
