from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from portal.credentials import generate_missing


class Command(BaseCommand):
    help = (
        "Generate every credential that is not set (SECRET_KEY, the API keys and token of the embedded "
        "API, FIELD_ENCRYPTION_KEYS) into var/generated.env, once; `make run` calls it. A variable set "
        "in the environment is never generated."
    )
    # It makes what the checks would find missing.
    requires_system_checks: list[str] = []

    def handle(self, *args: Any, **options: Any) -> None:
        added = generate_missing(settings.GENERATED_ENV_FILE)
        if added:
            self.stdout.write(f"Generated {', '.join(added)} into {settings.GENERATED_ENV_FILE} (owner-only).")
