from django.apps import AppConfig


class IdentityConfig(AppConfig):
    name = "identity"
    verbose_name = "Single sign-on"

    def ready(self) -> None:
        # Registers the system checks of the single sign-on settings.
        from identity import checks  # noqa: F401
