from django.urls import path, register_converter

from webhooks_app import delivery_page, integrator, logs_views, roll_views, views


class LogIdConverter:
    """A log row id: ASCII digits only, passed on as text (Django's int converter would make it an int)."""

    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return str(value)


register_converter(LogIdConverter, "log_id")

urlpatterns = [
    path("", views.webhooks_tab, name="webhooks_tab"),
    path("logs", views.logs_section, name="logs_section"),
    path("webhooks/<str:environment>/card", views.environment_card, name="environment_card"),
    path("webhooks/<str:environment>/generate", views.generate_key, name="generate_key"),
    path("webhooks/<str:environment>/test", views.test_connection, name="test_connection"),
    path("webhooks/<str:environment>/regenerate", views.regenerate_secret, name="regenerate_secret"),
    path("webhooks/<str:environment>/delete", views.delete_webhook, name="delete_webhook"),
    path("webhooks/<str:environment>/reveal", views.reveal_secret, name="reveal_secret"),
    path("webhooks/<str:environment>/copy", views.copy_secret, name="copy_secret"),
    path("webhooks/<str:environment>/enable", views.enable_webhook, name="enable_webhook"),
    path("webhooks/<str:environment>/roll", roll_views.roll_secret, name="roll_secret"),
    path("webhooks/<str:environment>/roll/complete", roll_views.complete_secret_roll, name="complete_secret_roll"),
    path("webhooks/<str:environment>/roll/cancel", roll_views.cancel_secret_roll, name="cancel_secret_roll"),
    path("webhooks/<str:environment>/logs/<log_id:log_id>/resend", views.resend_delivery, name="resend_delivery"),
    path("integrate/", integrator.integrate, name="integrate"),
    # One delivery, by its AutoQL-Delivery-Id: a link to paste into a support ticket.
    path("deliveries/<str:delivery_id>/", delivery_page.delivery_page, name="delivery_page"),
    path("integrate/example-alert", integrator.send_example_alert, name="send_example_alert"),
    # The logs' filters, attempts, health, recover, export and live refresh (logs_views.py).
    path(
        "webhooks/<str:environment>/deliveries/<str:delivery_id>",
        logs_views.delivery_timeline,
        name="delivery_timeline",
    ),
    path("webhooks/<str:environment>/logs/<log_id:log_id>", logs_views.log_detail, name="log_detail"),
    path("webhooks/<str:environment>/health", logs_views.logs_health, name="logs_health"),
    path("webhooks/<str:environment>/recover", logs_views.recover_failed, name="recover_failed"),
    path("webhooks/<str:environment>/logs/export", logs_views.export_logs, name="export_logs"),
    path("webhooks/<str:environment>/logs/new", logs_views.new_deliveries, name="new_deliveries"),
]
