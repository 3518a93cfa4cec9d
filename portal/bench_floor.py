"""The floors the benchmark measures against, routed only when BENCH_FLOOR_VIEWS=true
(portal/urls.py): for `POST {env}/events` (ingest), a view that inserts one row and does nothing
else; for the tab's logs partial (pages over HTTP), a signed-in view that does nothing."""

import uuid

from django.contrib.auth.decorators import login_required
from django.contrib.sessions.models import Session
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST


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
