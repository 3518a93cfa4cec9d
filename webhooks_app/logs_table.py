"""The logs table's context: one page of rows as the closed rows show them, the pager and the
filters, from one call of the management API."""

import math
from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.timesince import timesince

from portal import environments
from webhooks_app import health_panel
from webhooks_app.access import MANAGE_PERMISSION
from webhooks_app.client import ManagementApi, ManagementApiError
from webhooks_app.faults import fault, lower_first
from webhooks_app.forms import PAGE_SIZES, LogsPageForm
from webhooks_app.log_filters import LogFiltering


def other_parameters(request: HttpRequest) -> str:
    """The query's parameters beyond env, size and page (the logs' filters), to pass on."""
    others = request.GET.copy()
    for name in ("env", "size", "page"):
        others.pop(name, None)
    return f"&{others.urlencode()}" if others else ""


def page_link(paging: dict[str, Any], page: int) -> str:
    filtering = paging.get("filtering")
    filters = filtering.link_query if filtering is not None else ""  # the logs' filters stay in every link
    return f"?env={paging['env']}&size={paging['size']}&page={page}{filters}"


# What a closed log row shows (_rows_shown), all the table asks the API for: a row's request and
# response load when it opens (logs_views.log_detail).
TABLE_FIELDS = ("id", "project_id", "type", "event", "status", "code", "created_at")


def rows_shown(environment: str, items: list[dict[str, Any]], offset: int = 0) -> list[dict[str, Any]]:
    """What a closed log row shows, worked out here once rather than by template filters per cell
    (a page has up to 100 rows)."""
    # One reverse for the page: every row's detail URL differs only in its id.
    detail_base = reverse("log_detail", args=[environment, "0"]).removesuffix("0")
    now = timezone.now()
    rows = []
    for index, item in enumerate(items):
        moment = parse_datetime(item.get("created_at") or "")
        rows.append(
            {
                "id": item["id"],
                "project_id": item.get("project_id") or "N/A",
                "type": item.get("type"),
                "event": item.get("event"),
                "status": item.get("status"),
                "succeeded": item.get("status") == "success",
                "code": item.get("code") or "—",
                "created_at": item.get("created_at"),
                "created": f"{timezone.localtime(moment):%Y-%m-%d %H:%M:%S}" if moment else "",
                "ago": timesince(moment, now) if moment else "",
                # Where the row stood in the list: an API without the one-row call (a plain AutoQL)
                # is asked for the list again from there (logs_views.log_detail).
                "detail_url": f"{detail_base}{item['id']}?at={offset + index}",
            }
        )
    return rows


def logs_context(request: HttpRequest, api: ManagementApi) -> dict[str, Any]:
    paging = LogsPageForm.from_query(request.GET)
    environment, page, size = paging["env"], paging["page"], paging["size"]
    context: dict[str, Any] = {
        "env": environment,
        "size": size,
        "page": page,
        "asked_page": page,
        "sizes": PAGE_SIZES,
        "environments": environments.pairs(),
        "rows": [],
        "logs_error": None,
        "fault": None,
        "pages": 1,
        "total": 0,
        "is_manager": request.user.has_perm(MANAGE_PERMISSION),
    }
    context["health_panel"] = health_panel.kept(environment, context["is_manager"])
    # Hook: the logs' filters and search (webhooks_app/log_filters.py); bad values call no API.
    filtering = context["filtering"] = LogFiltering.from_query(request.GET, environment, size)
    if filtering.invalid:
        return context
    try:
        data = filtering.fetch_page(api, offset=(page - 1) * size, limit=size, fields=TABLE_FIELDS)
        total = data["pagination"]["total_items"]
        pages = max(1, math.ceil(total / size))
        if page > pages:
            # A page past the end (an old link, a typed number) shows the last one instead.
            page = pages
            data = filtering.fetch_page(api, offset=(page - 1) * size, limit=size, fields=TABLE_FIELDS)
            total = data["pagination"]["total_items"]
            pages = max(1, math.ceil(total / size))
    except ManagementApiError as e:
        context["logs_error"] = f"Couldn't load the {environments.label(environment)} logs: {lower_first(e.message)}"
        context["fault"] = fault(request, e, "logs")
        return context
    if filtering.newest:
        health_panel.note_newest(environment, filtering.newest)
        # What is kept may have changed with it: the panel shown agrees with these rows.
        context["health_panel"] = health_panel.kept(environment, context["is_manager"])
    context.update(rows=rows_shown(environment, data["items"], (page - 1) * size), total=total, pages=pages, page=page)
    context["pager_back"] = page > 1
    context["pager_forward"] = page < pages
    context["pager"] = {
        "first": page_link(context, 1),
        "previous": page_link(context, max(1, page - 1)),
        "next": page_link(context, min(pages, page + 1)),
        "last": page_link(context, pages),
    }
    return context
