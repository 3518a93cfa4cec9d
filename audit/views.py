"""The Activity page: the audit trail for managers, newest first."""

from dataclasses import dataclass
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from audit.forms import ActivityFilterForm
from audit.models import AuditEvent
from webhooks_app.access import MANAGE_PERMISSION
from webhooks_app.errors import error_response

PAGE_SIZE = 25


@dataclass
class EventPage:
    events: list[AuditEvent]
    has_newer: bool
    has_older: bool


def event_page(
    events: QuerySet[AuditEvent], *, before: int | None, after: int | None, last: bool, size: int = PAGE_SIZE
) -> EventPage:
    """One page by keyset on the id: an index range at any depth, and no COUNT of the table."""
    if last:
        rows = list(events.order_by("id")[:size])[::-1]
    elif after is not None:
        rows = list(events.filter(id__gt=after).order_by("id")[:size])[::-1]
    elif before is not None:
        rows = list(events.filter(id__lt=before).order_by("-id")[:size])
    else:
        rows = list(events.order_by("-id")[:size])
    if not rows:
        return EventPage(rows, has_newer=False, has_older=False)
    return EventPage(
        rows,
        has_newer=events.filter(id__gt=rows[0].id).exists(),
        has_older=events.filter(id__lt=rows[-1].id).exists(),
    )


@require_GET
@login_required
def activity(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm(MANAGE_PERMISSION):
        return error_response(request, "Only managers can see the activity of the portal.", 403)
    form = ActivityFilterForm(request.GET)
    if not form.is_valid():
        return render(request, "audit/activity.html", {"form": form, "page": None}, status=400)
    filters = {name: form.cleaned_data[name] for name in ("environment", "actor") if form.cleaned_data[name]}
    events = AuditEvent.objects.filter(**filters)
    page = event_page(
        events, before=form.cleaned_data["before"], after=form.cleaned_data["after"], last=form.cleaned_data["last"]
    )
    query = urlencode(filters)
    context = {
        "form": form,
        "page": page,
        "filtered": bool(filters),
        # Only asked when the page is empty, to tell "nothing yet" from "nothing here".
        "anything_recorded": bool(page.events) or AuditEvent.objects.exists(),
        "first_url": f"?{query}",
        "last_url": f"?{urlencode({**filters, 'last': 'on'})}",
        "newer_url": f"?{urlencode({**filters, 'after': page.events[0].id})}" if page.events else "",
        "older_url": f"?{urlencode({**filters, 'before': page.events[-1].id})}" if page.events else "",
    }
    return render(request, "audit/activity.html", context)
