from django.apps import AppConfig
from django.core import checks


class WebhooksAppConfig(AppConfig):
    name = "webhooks_app"
    verbose_name = "Webhooks tab"

    def ready(self) -> None:
        from portal.credentials import check_credentials

        checks.register(check_credentials)
