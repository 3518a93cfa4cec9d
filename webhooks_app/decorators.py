"""The decorator every view that changes a webhook or reveals its secret wears: its methods, a
signed-in manager, a known environment and the one error path of a failed management API call."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.views.decorators.http import require_http_methods

from portal import environments
from webhooks_app.access import ChangeView, HtmxHttpRequest, manager_required
from webhooks_app.client import ManagementApiError
from webhooks_app.responses import modal


def reports_api_failure(action: str) -> Callable[[ChangeView], ChangeView]:
    """The one error path of the change views: a management API call that fails becomes the
    modal "<action> failed" (502)."""

    def decorator(view: ChangeView) -> ChangeView:
        @wraps(view)
        def reporting(request: HtmxHttpRequest, environment: str, *args: Any, **kwargs: Any) -> HttpResponse:
            try:
                return view(request, environment, *args, **kwargs)
            except ManagementApiError as e:
                context = {"label": environments.label(environment), "action": action, "error": e.message}
                return modal(request, "webhooks_app/_action_failed.html", context, status=502)

        return reporting

    return decorator


def change_view(action: str, methods: tuple[str, ...] = ("POST",)) -> Callable[[ChangeView], ChangeView]:
    """Every view that changes a webhook or reveals its secret: the HTTP methods it takes, a signed-in
    manager and a known environment, and the one error path for a failed management API call."""

    def decorator(view: ChangeView) -> ChangeView:
        checked = login_required(manager_required(reports_api_failure(action)(view)))
        return require_http_methods(list(methods))(checked)

    return decorator
