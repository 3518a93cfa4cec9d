"""The floors the benchmark measures against, routed only when BENCH_FLOOR_VIEWS=true
(portal/urls.py): for `POST {env}/events` (ingest), a view that inserts one row and does nothing
else; for the tab's logs partial (pages over HTTP), a signed-in view that does nothing, and the
partial's whole floor: that view + the partial's API call + rendering the same rows from memory."""

import uuid
from typing import Any

from django.contrib.auth.decorators import login_required
from django.contrib.sessions.models import Session
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from webhooks_app.client import ManagementApi
from webhooks_app.log_filters import LogFiltering
from webhooks_app.logs_table import load_page, logs_context


@csrf_exempt  # a bench-only client without a session, as the API's clients are
@require_POST
def insert_one_row(request: HttpRequest) -> HttpResponse:
    # An already expired session: nothing can sign in with it, and `clearsessions` removes it.
    Session.objects.create(session_key=uuid.uuid4().hex, session_data="", expire_date=timezone.now())
    return HttpResponse(status=202)


@login_required
def signed_in_nothing(request: HttpRequest) -> HttpResponse:
    # What every page pays before its own work: the session, the user, the middleware.
    return HttpResponse("x", content_type="text/plain")


# Per person and query string: the filters of the partial's API call, and the context its first
# request built (what a person may see is theirs: a viewer is never shown a manager's page).
_KEPT: dict[tuple[Any, str], tuple[LogFiltering, dict[str, Any]]] = {}


@require_GET
@login_required
def signed_in_logs(request: HttpRequest) -> HttpResponse:
    """The logs partial's floor, measured where the partial runs (a web worker, over HTTP): the
    signed-in view above + the API call the partial makes, made the same way (load_page) + rendering
    the rows its first request showed, kept in memory. None of the partial's own work: reading the
    table's place and filters from the query, the rows' display values, the pager, the health panel."""
    key = (request.user.pk, request.GET.urlencode())
    if key not in _KEPT:
        context = logs_context(request, ManagementApi())
        _KEPT[key] = (LogFiltering.from_query(request.GET, context["env"], context["size"]), context)
    filtering, context = _KEPT[key]
    load_page(filtering, ManagementApi(), context["page"], context["size"])
    return render(request, "webhooks_app/_logs.html", context)
