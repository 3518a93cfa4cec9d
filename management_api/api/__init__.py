"""The embedded, AutoQL-compatible management API.

Paths, authentication, bodies and errors follow docs/api.md: AutoQL's six calls and this
project's additions, one router per area.
"""

from management_api.api import deliveries, logs, operations, roll, webhooks
from management_api.api.base import api

for area in (webhooks, logs, deliveries, roll, operations):
    api.add_router("", area.router)

__all__ = ["api"]
