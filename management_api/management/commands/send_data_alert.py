import json
from pathlib import Path

from django.core.management.base import CommandError
from pydantic import ValidationError

from audit.commands import AuditedCommand
from management_api.alerts import send_data_alert
from management_api.delivery import WebhookDisabled
from management_api.models import Webhook
from portal import environments


class Command(AuditedCommand):
    help = "Queue a data_alert.true event to an environment's webhook (the worker delivers it)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--environment", required=True, choices=environments.values())
        parser.add_argument("--project-id", required=True)
        parser.add_argument("--title", required=True)
        parser.add_argument("--message", default="")
        parser.add_argument("--data", type=Path, help="a JSON file with the alert's query result rows")

    def handle(
        self, *args, environment: str, project_id: str, title: str, message: str, data: Path | None, **options
    ) -> None:
        rows = None
        if data is not None:
            try:
                rows = json.loads(data.read_text())
            except OSError as e:
                raise CommandError(f"Cannot read {data}: {e.strerror}.")
            except ValueError as e:
                raise CommandError(f"{data} is not valid JSON: {e}.")
        try:
            delivery = send_data_alert(environment, project_id, title, message, rows)
        except Webhook.DoesNotExist:
            raise CommandError(f"No webhook is configured for {environment}; create one in the portal first.")
        except WebhookDisabled as e:
            raise CommandError(f"{e} Enable it in the portal first.")
        except ValidationError as e:
            raise CommandError(f"The alert is not valid: {e.errors()[0]['loc'][0]}: {e.errors()[0]['msg']}.")
        self.stdout.write(f"Queued delivery {delivery.id} of data_alert.true to the {environment} webhook.")
