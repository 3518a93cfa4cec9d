"""The logs' own views: a delivery's attempts, the environment's health, recover, export and the
check for new deliveries that keeps the table live. The table itself is views.logs_section.

Each is one or two calls of the management API's logs extensions (docs/api.md); against an API
without them (a plain AutoQL answers 404) they show nothing rather than something wrong.
"""

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods
from django_htmx.http import trigger_client_event

from audit.trail import EXPORT_FORMATS
from portal.signatures import hide_fresh_signature
from webhooks_app import health_panel
from webhooks_app.access import MANAGE_PERMISSION, HtmxHttpRequest, known_environment
from webhooks_app.client import ManagementApi, ManagementApiError
from webhooks_app.errors import error_response
from webhooks_app.forms import logs_place
from webhooks_app.log_filters import DELIVERIES_VIEW, TIME_FORMATS, LogFiltering, as_utc_text
from webhooks_app.responses import modal

DELIVERY_ID = re.compile(r"[0-9A-Fa-f-]{32,36}")


# An opened row: its request and response, loaded when the reader opens it.


# How far down the list a row is looked for: it moves down by one for every newer row.
ROW_SEARCH_PAGES = 2
API_PAGE_LIMIT = 100  # the largest page the management API gives


def _row_from_the_list(api: ManagementApi, environment: str, log_id: str, at: str) -> dict[str, Any] | None:
    """The row, found in the logs list from where it stood when the table was drawn."""
    if not (at.isascii() and at.isdigit() and len(at) <= 9):
        return None
    offset = int(at)
    for _ in range(ROW_SEARCH_PAGES):
        items = api.logs(environment, offset, API_PAGE_LIMIT)["items"]
        row = next((item for item in items if isinstance(item, dict) and str(item.get("id")) == log_id), None)
        if row is not None or len(items) < API_PAGE_LIMIT:
            return row
        offset += API_PAGE_LIMIT
    return None


@require_GET
@login_required
def log_detail(request: HttpRequest, environment: str, log_id: str) -> HttpResponse:
    known_environment(environment)
    context: dict[str, Any] = {"env": environment, "row": None, "error": None}
    api = ManagementApi()
    try:
        try:
            context["row"] = api.log_row(environment, log_id)
        except ManagementApiError as e:
            # 404: the row went with retention, or the API is a plain AutoQL, which has no such
            # call; its list has the row, a little further down if newer rows came since.
            if e.status != 404:
                raise
            context["row"] = _row_from_the_list(api, environment, log_id, request.GET.get("at", ""))
            if context["row"] is None:
                context["error"] = "This row is no longer kept."
    except ManagementApiError as e:
        context["error"] = f"Loading the details of this row failed: {e}"
    context["is_manager"] = request.user.has_perm(MANAGE_PERMISSION)
    if context["row"] is not None and not context["is_manager"]:
        context["row"] = hide_fresh_signature(context["row"])
    return render(request, "webhooks_app/_log_detail.html", context)


# A delivery's attempts, in its expanded row.


@require_GET
@login_required
def delivery_timeline(request: HttpRequest, environment: str, delivery_id: str) -> HttpResponse:
    known_environment(environment)
    if not DELIVERY_ID.fullmatch(delivery_id):
        raise Http404("No such delivery")
    context: dict[str, Any] = {"delivery": None, "error": None}
    try:
        delivery = ManagementApi().delivery(environment, delivery_id)
        attempts = delivery.get("timeline") if isinstance(delivery, dict) else None
        if isinstance(attempts, list) and not request.user.has_perm(MANAGE_PERMISSION):
            # An attempt's error may quote a receiver that echoed its signature back.
            shown = [hide_fresh_signature(attempt) if isinstance(attempt, dict) else attempt for attempt in attempts]
            delivery = {**delivery, "timeline": shown}
        context["delivery"] = delivery
    except ManagementApiError as e:
        context["error"] = (
            "The attempts of this delivery are no longer kept."
            if e.status == 404
            else f"Loading the attempts failed: {e}"
        )
    return render(request, "webhooks_app/_delivery_timeline.html", context)


# Health at a glance (health_panel.py).


@require_GET
@login_required
def logs_health(request: HttpRequest, environment: str) -> HttpResponse:
    label = known_environment(environment)
    try:
        deliveries = request.GET.get("view") == DELIVERIES_VIEW
        return HttpResponse(
            health_panel.panel(environment, label, request.user.has_perm(MANAGE_PERMISSION), deliveries)
        )
    except ManagementApiError as e:
        if e.status == 404:
            # A plain AutoQL has no stats: no health panel, and no Recover either.
            return HttpResponse("")
        context = {"label": label, "environment": environment, "error": str(e)}
        return render(request, "webhooks_app/_health.html", context)


# Recover failed deliveries.


class RecoverForm(forms.Form):
    since = forms.ChoiceField(
        label="Failed since",
        choices=[
            ("1h", "The last hour"),
            ("24h", "The last 24 hours"),
            ("7d", "The last 7 days"),
            ("custom", "A time of my choice"),
        ],
        widget=forms.RadioSelect,
        initial="24h",
    )
    custom = forms.DateTimeField(
        label="Since (UTC)",
        required=False,
        input_formats=TIME_FORMATS,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )

    PERIODS = {"1h": timedelta(hours=1), "24h": timedelta(hours=24), "7d": timedelta(days=7)}

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("since") == "custom" and not cleaned.get("custom") and not self.has_error("custom"):
            self.add_error("custom", "Enter the time to recover from.")
        return cleaned

    def since_time(self, now: datetime) -> datetime:
        if self.cleaned_data["since"] == "custom":
            return self.cleaned_data["custom"].astimezone(UTC)
        return now - self.PERIODS[self.cleaned_data["since"]]


def _since_words(since: datetime, now: datetime) -> str:
    since = since.astimezone(UTC)
    if since.date() == now.astimezone(UTC).date():
        return f"{since:%H:%M} UTC"
    return f"{since:%Y-%m-%d %H:%M} UTC"


@require_http_methods(["GET", "POST"])
@login_required
def recover_failed(request: HtmxHttpRequest, environment: str) -> HttpResponse:
    label = known_environment(environment)
    if not request.user.has_perm(MANAGE_PERMISSION):
        return error_response(request, "Only managers can recover failed deliveries.", 403)
    if request.method == "POST":
        form = RecoverForm(request.POST, auto_id="recover-%s", label_suffix="")
    else:
        # Opened: the count for the last 24 hours at once; changed: the count for the choice.
        form = RecoverForm(
            request.GET if "since" in request.GET else {"since": "24h"}, auto_id="recover-%s", label_suffix=""
        )
    context: dict[str, Any] = {"form": form, "label": label, "environment": environment, "count": None, "error": None}
    if not form.is_valid():
        return modal(request, "webhooks_app/_recover_confirm.html", context, status=400)
    now = timezone.now()
    since = form.since_time(now)
    context["since_words"] = _since_words(since, now)
    api = ManagementApi()
    try:
        if request.method == "POST":
            queued = api.recover(environment, as_utc_text(since))
        else:
            context["count"] = api.recoverable_count(environment, as_utc_text(since))
    except ManagementApiError as e:
        context["error"] = e.message
        return modal(request, "webhooks_app/_recover_confirm.html", context, status=400 if e.status == 400 else 200)
    if request.method == "GET":
        return modal(request, "webhooks_app/_recover_confirm.html", context)
    context["queued"] = queued
    response = modal(request, "webhooks_app/_recover_confirm.html", context)
    return trigger_client_event(response, "logs:refresh", {})


# Export.


@require_GET
@login_required
def export_logs(request: HttpRequest, environment: str) -> HttpResponseBase:
    label = known_environment(environment)
    file_format = request.GET.get("format", "csv")
    if file_format not in EXPORT_FORMATS:
        return error_response(request, "Choose an export format: csv or jsonl.", 400)
    filtering = LogFiltering.from_query(request.GET, environment, size=10)
    if filtering.invalid:
        field, errors = next(iter(filtering.form.errors.items()))
        return error_response(request, f"{field}: {errors[0]}", 400)
    try:
        export = ManagementApi().export_logs(environment, file_format, filtering.api_filters)
    except ManagementApiError as e:
        if e.status == 404:
            return error_response(request, "This management API does not export logs.", 404)
        return error_response(request, f"Exporting the {label} logs failed: {e}", 400 if e.status == 400 else 502)
    response = StreamingHttpResponse(export.chunks, content_type=export.content_type)
    response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
    response["Cache-Control"] = "no-store"
    return response


# Live: are there deliveries newer than the newest row shown?


def _count_newer(items: list[dict[str, Any]], newest: str) -> int:
    if not newest:
        return len(items)
    # Row ids grow with every row written; compared as numbers, not text ("10" after "9").
    return sum(1 for item in items if str(item.get("id", "")).isdigit() and int(item["id"]) > int(newest))


@require_GET
@login_required
def new_deliveries(request: HttpRequest, environment: str) -> HttpResponse:
    known_environment(environment)
    paging = logs_place(request.GET)
    # Absent: learn the newest row there is now (a page past 1 does not show it). Empty: none yet.
    newest = request.GET.get("newest")
    filtering = LogFiltering.from_query(request.GET, environment, paging["size"])
    if filtering.invalid or not (newest is None or newest == "" or newest.isdigit()):
        return HttpResponse("", status=400)
    try:
        items = filtering.fetch_page(ManagementApi(), offset=0, limit=100, fields=("id",))["items"]
    except ManagementApiError:
        # Quiet: the table says what failed the next time it loads.
        return HttpResponse(status=204)
    if items:
        health_panel.note_newest(environment, str(items[0].get("id", "")))
    filtering.page = paging["page"]
    if newest is None:
        newest, count = filtering.newest, 0
    else:
        count = _count_newer(items, newest)
    if count and filtering.page == 1:
        return trigger_client_event(HttpResponse(status=204), "logs:refresh", {})
    context = {
        "baseline": False,
        "poll_url": filtering.live_check_url_for(newest),
        "count": count,
        "more": count >= 100,
        "first_page": filtering.first_page_url,
        "label": filtering.label,
    }
    return render(request, "webhooks_app/_new_deliveries.html", context)
