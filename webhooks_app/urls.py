from django.urls import path

from webhooks_app import views

urlpatterns = [
    path("", views.webhooks_tab, name="webhooks_tab"),
    path("webhooks/<str:environment>/generate", views.generate_key, name="generate_key"),
    path("webhooks/<str:environment>/test", views.test_connection, name="test_connection"),
    path("webhooks/<str:environment>/regenerate", views.regenerate_secret, name="regenerate_secret"),
    path("webhooks/<str:environment>/delete", views.delete_webhook, name="delete_webhook"),
    path("webhooks/<str:environment>/reveal", views.reveal_secret, name="reveal_secret"),
    path("webhooks/<str:environment>/enable", views.enable_webhook, name="enable_webhook"),
    path("webhooks/<str:environment>/logs/<str:log_id>/resend", views.resend_delivery, name="resend_delivery"),
]
