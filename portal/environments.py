"""The environments webhooks live in: one list, read by everything (the tab, the API, the worker,
the models' choices, the audit trail, the commands), in the order the tab shows them.

Adding one is one entry in WEBHOOK_ENVIRONMENTS plus its API key, AUTOQL_<NAME>_API_KEY
(portal/credentials.py). Read at every use, never copied at import time, so that a setting
changed in a test (or a new entry) reaches every surface.
"""

from django.conf import settings


def pairs() -> list[tuple[str, str]]:
    """(value, label) of every environment, e.g. ("sandbox", "Sandbox")."""
    return [(value, label) for value, label in settings.WEBHOOK_ENVIRONMENTS]


def values() -> list[str]:
    return [value for value, _ in settings.WEBHOOK_ENVIRONMENTS]


def is_environment(value: object) -> bool:
    return isinstance(value, str) and value in values()


def label(value: str) -> str:
    return dict(settings.WEBHOOK_ENVIRONMENTS).get(value, value.capitalize())


def choices() -> list[tuple[str, str]]:
    """For a model field's `choices` (a callable, so migrations do not copy the list)."""
    return pairs()
