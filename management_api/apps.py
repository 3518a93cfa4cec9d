from django.apps import AppConfig


class ManagementApiConfig(AppConfig):
    name = "management_api"
    verbose_name = "Management API"

    def ready(self) -> None:
        # Registers the start-up check that the encryption keys read the stored secrets.
        from management_api import checks  # noqa: F401
