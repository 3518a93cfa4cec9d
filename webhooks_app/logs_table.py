"""The logs table's context: one page of rows as the closed rows show them, the pager and the
filters, from one call of the management API."""

import math
from typing import Any
from urllib.parse import quote

from django.http import HttpRequest
from django.urls import reverse
from django.utils.dateparse import parse_datetime

from portal import environments
from webhooks_app import health_panel
from webhooks_app.access import MANAGE_PERMISSION
from webhooks_app.client import ManagementApi, ManagementApiError
from webhooks_app.deliveries_table import delivery_rows_shown, fetch_deliveries_page, view_links
from webhooks_app.faults import fault, lower_first
from webhooks_app.forms import PAGE_SIZES, logs_place
from webhooks_app.log_filters import DELIVERIES_VIEW, LogFiltering
from webhooks_app.times import PageTimes


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
TABLE_FIELDS = ("id", "project_id", "type", "event", "status", "code", "created_at", "delivery_id")


def rows_shown(environment: str, items: list[dict[str, Any]], offset: int = 0) -> list[dict[str, Any]]:
    """What a closed log row shows, worked out here once rather than by template filters per cell
    (a page has up to 100 rows)."""
    # One reverse for the page: every row's detail URL differs only in its id.
    detail_base = reverse("log_detail", args=[environment, "0"]).removesuffix("0")
    delivery_base = reverse("delivery_page", args=["0"]).removesuffix("0/")
    times = PageTimes()
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
                "created": times.shown(moment) if moment else "",
                "ago": times.ago(moment) if moment else "",
                # Where the row stood in the list: an API without the one-row call (a plain AutoQL)
                # is asked for the list again from there (logs_views.log_detail).
                "detail_url": f"{detail_base}{item['id']}?at={offset + index}",
                "delivery_id": item.get("delivery_id"),
                "delivery_url": f"{delivery_base}{quote(str(item['delivery_id']), safe='')}/"
                if item.get("delivery_id")
                else "",
            }
        )
    return rows


def fetch_table_page(
    filtering: LogFiltering, api: ManagementApi, offset: int, limit: int, from_oldest: bool = False
) -> dict[str, Any]:
    """A page of the view asked for: deliveries, or attempts. An API without the deliveries call
    (a plain AutoQL answers 404) shows attempts, and no toggle (its logs advertise no filters).
    Either is read `from_oldest` when asked (a capped count's deep end)."""
    if filtering.view:
        try:
            return fetch_deliveries_page(filtering, api, offset, limit, from_oldest)
        except ManagementApiError as e:
            if e.status != 404:
                raise
            filtering.view = ""
    return filtering.fetch_page(api, offset=offset, limit=limit, fields=TABLE_FIELDS, from_oldest=from_oldest)


def pages_of(data: dict[str, Any], size: int) -> int:
    return max(1, math.ceil(data["pagination"]["total_items"] / size))


def load_page(filtering: LogFiltering, api: ManagementApi, page: int, size: int) -> tuple[dict[str, Any], int]:
    """The API's answer for `page`, and the page it turned out to be.

    A filtered count stops 10,000 rows past the page (a lower bound), so the last page has no
    number: a negative page counts from the oldest row instead (-1 is the last), which the
    embedded API answers as cheaply (docs/api-additions.md, "Paging from the oldest row"). When
    the total is exact after all, or the API does not count from the oldest row, the same place is
    shown counted from the newest; a page past the end shows the last one.
    """
    if page < 0:
        offset = (-page - 1) * size
        data = fetch_table_page(filtering, api, offset, size, from_oldest=True)
        if filtering.from_oldest and filtering.total_is_lower_bound and data["items"]:
            return data, page
        page = max(1, pages_of(data, size) + 1 + page)
    data = fetch_table_page(filtering, api, (page - 1) * size, size)
    if page > pages_of(data, size):
        page = pages_of(data, size)
        data = fetch_table_page(filtering, api, (page - 1) * size, size)
    return data, page


def pager(context: dict[str, Any], lower_bound: bool, from_oldest: bool) -> None:
    """The pager says what it knows: the page and the total when exact; under a count that stopped,
    "of at least N" pages, or the page's place from the end, where Last and Previous lead when the
    API pages `from_oldest` (an upstream is never asked to: its Last is the furthest page known)."""
    page, pages = context["page"], context["pages"]
    if page < 0:
        words = "Last page" if page == -1 else f"Page {-page} from the end"
        back, forward, links = True, page < -1, (1, page - 1, page + 1, -1)
    else:
        words = f"Page {page} of {'at least ' if lower_bound else ''}{pages}"
        back, forward = page > 1, page < pages
        links = (1, max(1, page - 1), min(pages, page + 1), -1 if lower_bound and from_oldest else pages)
    context.update(page_words=words, pager_back=back, pager_forward=forward)
    context["pager"] = dict(
        zip(("first", "previous", "next", "last"), (page_link(context, n) for n in links), strict=True)
    )


def logs_context(request: HttpRequest, api: ManagementApi) -> dict[str, Any]:
    paging = logs_place(request.GET)
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
    deliveries = request.GET.get("view") == DELIVERIES_VIEW
    context["health_panel"] = health_panel.kept(environment, context["is_manager"], deliveries)
    # Hook: the logs' filters and search (webhooks_app/log_filters.py); bad values call no API.
    filtering = context["filtering"] = LogFiltering.from_query(request.GET, environment, size)
    if filtering.invalid:
        return context
    try:
        data, page = load_page(filtering, api, page, size)
    except ManagementApiError as e:
        context["logs_error"] = f"Couldn't load the {environments.label(environment)} logs: {lower_first(e.message)}"
        context["fault"] = fault(request, e, "logs")
        return context
    if filtering.newest:
        health_panel.note_newest(environment, filtering.newest)
        # What is kept may have changed with it: the panel shown agrees with these rows.
        context["health_panel"] = health_panel.kept(environment, context["is_manager"], deliveries=bool(filtering.view))
    total, pages = data["pagination"]["total_items"], pages_of(data, size)
    # A page counted from the oldest row has no known offset from the newest: its rows carry none
    # (only an upstream AutoQL, which never pages from the oldest, needs it: logs_views.log_detail).
    offset = (page - 1) * size if page > 0 else 0
    shown = (
        delivery_rows_shown(environment, data["items"])
        if filtering.view
        else rows_shown(environment, data["items"], offset)
    )
    context.update(rows=shown, total=total, pages=pages, page=page, view_links=view_links(filtering))
    pager(context, filtering.total_is_lower_bound, from_oldest=api.embedded)
    return context
