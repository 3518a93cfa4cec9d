"""The logs table's deliveries view (?view=deliveries): one row per delivery, with where it ended
up, how many attempts it took and its last code and duration, from the management API's
GET .../deliveries (docs/api-additions.md, "Deliveries, one row each").

The filters are the attempts view's; a status filter means the outcome here: Success is a
delivery delivered in the end (whatever its earlier attempts answered), Failure one given up.
A delivery still retrying, or held by a disabled webhook, matches neither.
"""

from typing import Any
from urllib.parse import urlencode

from django.urls import reverse
from django.utils.dateparse import parse_datetime

from webhooks_app.client import ManagementApi
from webhooks_app.log_filters import DELIVERIES_VIEW, LogFiltering
from webhooks_app.times import PageTimes

OUTCOMES = {
    "delivered": ("Delivered", "pill-ok"),
    "retrying": ("Retrying", ""),
    "gave_up": ("Gave up", "pill-bad"),
    "disabled": ("Disabled", "pill-bad"),
}


def fetch_deliveries_page(
    filtering: LogFiltering, api: ManagementApi, offset: int, limit: int, from_oldest: bool = False
) -> dict[str, Any]:
    """The page of deliveries (`from_oldest`: counted from the oldest, as the attempts' deep end);
    the live check then watches the newest attempt the page shows."""
    data = api.deliveries(filtering.environment, offset, limit, filtering.api_filters, from_oldest)
    filtering.supported = True
    filtering.total_is_lower_bound = bool(data["pagination"].get("total_is_lower_bound"))
    filtering.from_oldest = data["pagination"].get("end") == "oldest"
    filtering.page = -(offset // limit + 1) if filtering.from_oldest else offset // limit + 1
    log_ids = [int(item["last_log_id"]) for item in data["items"] if item.get("last_log_id") is not None]
    filtering.newest = str(max(log_ids)) if log_ids else ""
    return data


def delivery_rows_shown(environment: str, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    times = PageTimes()
    rows = []
    for item in items:
        moment = parse_datetime(item["created_at"])
        word, pill = OUTCOMES.get(item["outcome"], (item["outcome"], ""))
        duration = item.get("last_duration_ms")
        rows.append(
            {
                "id": item["id"],
                "short_id": item["id"].replace("-", "")[:8],
                "project_id": item.get("project_id") or "N/A",
                "type": item.get("type"),
                "event": item.get("event"),
                "outcome": word,
                "pill": pill,
                "attempts": item["attempts"],
                "code": item.get("last_code") or "—",
                "duration": "—" if duration is None else f"{duration} ms",
                "created_at": item["created_at"],
                "created": times.shown(moment) if moment else "",
                "ago": times.ago(moment) if moment else "",
                "url": reverse("delivery_page", args=[item["id"]]),
                "attempts_url": reverse("delivery_timeline", args=[environment, item["id"]]),
            }
        )
    return rows


def view_links(filtering: LogFiltering) -> dict[str, str]:
    """The toggle's two links: the same filters, page 1 (a page of attempts is not one of deliveries)."""
    values = {"env": filtering.environment, "size": str(filtering.size), **filtering.raw}
    base = reverse("logs_section")
    return {
        "attempts": f"{base}?{urlencode(values)}",
        "deliveries": f"{base}?{urlencode({**values, 'view': DELIVERIES_VIEW})}",
    }
