"""Who may do what in the Webhooks tab, in one place: the manage permission, and the decorator
every view that changes a webhook or reveals its secret wears."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django_htmx.middleware import HtmxDetails

from portal import environments

MANAGE_PERMISSION = "webhooks_app.manage_webhooks"


class HtmxHttpRequest(HttpRequest):
    """What django-htmx's middleware adds to every request (its documented typing pattern)."""

    htmx: HtmxDetails


def known_environment(environment: str) -> str:
    """The environment's label, or 404 for a name that is none."""
    if not environments.is_environment(environment):
        raise Http404("No such environment")
    return environments.label(environment)


ChangeView = Callable[..., HttpResponse]


def manager_required(view: ChangeView) -> ChangeView:
    """For the views that change a webhook or reveal its secret: a known environment (else 404)
    and a user with the manage permission (else 403)."""

    @wraps(view)
    def checked(request: HtmxHttpRequest, environment: str, *args: Any, **kwargs: Any) -> HttpResponse:
        if not environments.is_environment(environment):
            raise Http404("No such environment")
        if not request.user.has_perm(MANAGE_PERMISSION):
            raise PermissionDenied("Only managers can change webhooks or reveal secrets.")
        return view(request, environment, *args, **kwargs)

    return checked
