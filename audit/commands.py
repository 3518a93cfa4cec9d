"""Management commands that change something act as themselves in the audit trail."""

from typing import Any

from django.core.management.base import BaseCommand

from audit.trail import Actor, ActorKind, acting_as


class AuditedCommand(BaseCommand):
    """A command whose changes are recorded as "command <name>" (e.g. "command seed_demo")."""

    def execute(self, *args: Any, **options: Any) -> Any:
        name = type(self).__module__.rsplit(".", 1)[-1]
        with acting_as(Actor(f"command {name}", ActorKind.COMMAND)):
            return super().execute(*args, **options)
