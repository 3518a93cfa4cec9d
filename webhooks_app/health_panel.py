"""The logs' health panel: deliveries and success rates over 24 h and 7 d, durations, the last
success and failure, and a chart per hour, from the management API's stats (docs/api.md)."""

import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.core.cache import cache
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.safestring import mark_safe

from webhooks_app.client import ManagementApi

# The chart's geometry, in SVG units: one bar per hour, successes below failures. The SVG is
# stretched to the panel's width; the hours' links and the time axis are HTML cells over and
# under it, one per bar, so they line up with the bars whatever the width.
BAR_WIDTH, BAR_GAP, CHART_HEIGHT = 10, 2, 48
# A time on the axis every this many hours.
AXIS_EVERY = 6
# The form's format for From and To (log_filters.TIME_FORMATS), in UTC as their labels say.
FILTER_TIME = "%Y-%m-%dT%H:%M"
# How long the newest row seen is remembered (note_newest): past that, one panel is computed afresh.
NEWEST_KEPT_SECONDS = 24 * 3600


@dataclass
class Bar:
    x: int
    success_height: float
    failure_height: float
    start: datetime
    successes: int
    failures: int

    @property
    def success_y(self) -> float:
        return round(CHART_HEIGHT - self.success_height, 1)

    @property
    def failure_y(self) -> float:
        return round(CHART_HEIGHT - self.success_height - self.failure_height, 1)

    @property
    def hour(self) -> str:
        start = self.start.astimezone(UTC)
        return f"{start:%H:%M}–{start + timedelta(hours=1):%H:%M} UTC"

    @property
    def figures(self) -> str:
        return f"{self.hour}: {self.successes} succeeded, {self.failures} failed"


def _hour_link(environment: str, bar: Bar) -> str:
    """The logs table filtered to the bar's hour: a custom time range, in the URL like any filter."""
    start = bar.start.astimezone(UTC)
    query = {
        "env": environment,
        "range": "custom",
        "since": f"{start:{FILTER_TIME}}",
        "until": f"{start + timedelta(hours=1):{FILTER_TIME}}",
    }
    return f"{reverse('logs_section')}?{urlencode(query)}"


def _chart(buckets: list[dict[str, Any]]) -> list[Bar]:
    tallest = max((b["successes"] + b["failures"] for b in buckets), default=0) or 1
    bars = []
    for index, bucket in enumerate(buckets):
        bars.append(
            Bar(
                x=index * (BAR_WIDTH + BAR_GAP),
                success_height=round(bucket["successes"] / tallest * CHART_HEIGHT, 1),
                failure_height=round(bucket["failures"] / tallest * CHART_HEIGHT, 1),
                start=parse_datetime(bucket["start"]) or timezone.now(),
                successes=bucket["successes"],
                failures=bucket["failures"],
            )
        )
    return bars


def _rate(stats: dict[str, Any]) -> str:
    rate = stats.get("success_rate")
    return "—" if rate is None else f"{rate * 100:.1f} %"


def panel(environment: str, label: str, is_manager: bool, deliveries: bool = False) -> str:
    """The panel, kept HEALTH_PANEL_CACHE_SECONDS per environment, kind of reader (only managers
    get Recover) and view (its figures count attempts or deliveries, as the table's rows do): every
    tab load shows it, and over millions of rows its stats cost far more than the rest of the tab,
    and its chart's few hundred numbers more than the table. Failures are not kept. Rendered
    without the request: what is kept is shown to every reader of that kind."""
    api = ManagementApi()
    key = _key(api, environment, is_manager, deliveries)  # no longer the same once a delivery landed
    html = cache.get(key)
    if html is not None:
        return str(html)
    if not api.embedded:
        return _computed(api, key, environment, label, is_manager, deliveries)
    # The embedded API's stats are this process's own work: when many tab loads find the panel
    # missing at once (a restart under load), one computes it and the rest wait for it, instead of
    # all computing it at once, each as slow as all of them together.
    with _computing:
        html = cache.get(key)
        return str(html) if html is not None else _computed(api, key, environment, label, is_manager, deliveries)


_computing = threading.Lock()


def _computed(api: ManagementApi, key: str, environment: str, label: str, is_manager: bool, deliveries: bool) -> str:
    day, week = api.stats(environment, "24h"), api.stats(environment, "7d")
    bars = _chart(day.get("buckets") or [])
    context = {
        "label": label,
        "environment": environment,
        "error": None,
        "windows": [("24 h", day, _rate(day)), ("7 d", week, _rate(week))],
        "day": day,
        "bars": bars,
        "hours": [(bar, _hour_link(environment, bar), index % AXIS_EVERY == 0) for index, bar in enumerate(bars)],
        "as_of": timezone.now(),
        "chart_width": len(bars) * (BAR_WIDTH + BAR_GAP),
        "chart_height": CHART_HEIGHT,
        "bar_width": BAR_WIDTH,
        "last_success": parse_datetime(day.get("last_success_at") or ""),
        "last_failure": parse_datetime(day.get("last_failure_at") or ""),
        "is_manager": is_manager,
        # The figure beside each window counts what the table's rows are.
        "counted": "deliveries" if deliveries else "attempts",
        "counted_name": "Deliveries" if deliveries else "Attempts",
    }
    html = render_to_string("webhooks_app/_health.html", context)
    if settings.HEALTH_PANEL_CACHE_SECONDS:
        cache.set(key, html, settings.HEALTH_PANEL_CACHE_SECONDS)
    return html


def kept(environment: str, is_manager: bool, deliveries: bool = False) -> str | None:
    """The panel if it is kept, for the tab to show at once; None and the slot loads it by itself."""
    html = cache.get(_key(ManagementApi(), environment, is_manager, deliveries))
    return None if html is None else mark_safe(html)  # the panel as panel() rendered it


def note_newest(environment: str, row_id: str) -> None:
    """A log row the table or the live check has just seen. Row ids grow with every row written
    (logs_views._count_newer), so a higher one than any seen so far is a delivery that landed:
    the panel kept until now no longer agrees with the table, and the next render computes it
    afresh (issue 19, item 7). The portal learns this from calls it makes anyway, none more."""
    if not row_id.isdigit():
        return  # an upstream's ids that are not numbers: the panel is kept by time, and says its age
    key = _newest_key(ManagementApi(), environment)
    if int(row_id) > int(cache.get(key) or 0):
        cache.set(key, row_id, NEWEST_KEPT_SECONDS)


def _newest_key(api: ManagementApi, environment: str) -> str:
    return f"logs-newest:{api.domain}:{environment}"


def _key(api: ManagementApi, environment: str, is_manager: bool, deliveries: bool = False) -> str:
    """The newest row seen is part of the key (see note_newest), and the view: the panel's words
    follow the table's rows, attempts or deliveries."""
    newest = cache.get(_newest_key(api, environment)) or ""
    view = ":deliveries" if deliveries else ""
    return f"logs-health:{api.domain}:{environment}:{'manager' if is_manager else 'reader'}{view}:{newest}"
