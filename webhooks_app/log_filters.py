"""The logs table's filters and search: from the query string to the management API's filter
parameters, the chips that show them and the sentence that says what they hide.

Every filter lives in the URL, so a reload, the back button and a pasted link keep it.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone

from webhooks_app.client import ManagementApi

# The query string's names of the filters, in the order the chips show them.
FILTER_NAMES = ("status", "type", "event", "project_id", "delivery_id", "range", "since", "until")
PRESETS = {
    "1h": ("the last hour", timedelta(hours=1)),
    "24h": ("the last 24 hours", timedelta(hours=24)),
    "7d": ("the last 7 days", timedelta(days=7)),
    "30d": ("the last 30 days", timedelta(days=30)),
}
# The filters in the bar's one line; the rest wait behind "More filters", which opens when one of
# them is set. Few, so the keyboard reaches the first row in a handful of Tabs (issue 19, item 6).
BAR_FILTERS = ("status", "range", "delivery_id")
STATUS_NAMES = {"success": "Success", "failure": "Failure"}
# The table shows attempts (one row per logged attempt) unless ?view=deliveries asks for one row
# per delivery (webhooks_app/deliveries_table.py); the view is kept in every link, like a filter.
DELIVERIES_VIEW = "deliveries"
TYPE_NAMES = {"test": "Test", "data_alert": "Data alert"}
TIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"]
PRINTABLE_ASCII = re.compile(r"[ -~]*")
HEX = re.compile(r"[0-9a-f]+")


def _printable(value: str) -> str:
    # The management API takes printable ASCII query parameters only; say so here, not as its 400.
    if not PRINTABLE_ASCII.fullmatch(value):
        raise forms.ValidationError("Use letters, digits and punctuation only (printable ASCII).")
    return value


def as_utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class LogFiltersForm(forms.Form):
    status = forms.ChoiceField(choices=[("", "Any status"), *STATUS_NAMES.items()], required=False)
    type = forms.ChoiceField(choices=[("", "Any type"), *TYPE_NAMES.items()], required=False)
    event = forms.CharField(
        max_length=100, required=False, widget=forms.TextInput(attrs={"placeholder": "data_alert.true"})
    )
    project_id = forms.CharField(label="Project ID", max_length=200, required=False)
    delivery_id = forms.CharField(
        label="AutoQL-Delivery-Id",
        max_length=36,
        required=False,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Whole id or its first 8 characters"}),
        error_messages={"max_length": "A delivery id has 32 hex digits (36 characters with dashes)."},
    )
    range = forms.ChoiceField(
        label="Time",
        choices=[
            ("", "Any time"),
            *((key, name.replace("the last", "Last")) for key, (name, _) in PRESETS.items()),
            ("custom", "Custom"),
        ],
        required=False,
    )
    since = forms.DateTimeField(
        label="From (UTC)",
        required=False,
        input_formats=TIME_FORMATS,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    until = forms.DateTimeField(
        label="To (UTC)",
        required=False,
        input_formats=TIME_FORMATS,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )

    def clean_event(self) -> str:
        return _printable(self.cleaned_data["event"])

    def clean_project_id(self) -> str:
        return _printable(self.cleaned_data["project_id"])

    def clean_delivery_id(self) -> str:
        value = self.cleaned_data["delivery_id"].replace("-", "").lower()
        if value and (not HEX.fullmatch(value) or not 8 <= len(value) <= 32):
            raise forms.ValidationError(
                "Enter a whole AutoQL-Delivery-Id or at least its first 8 characters (0-9 and a-f)."
            )
        return value

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        since, until = cleaned.get("since"), cleaned.get("until")
        if (since or until) and cleaned.get("range") in PRESETS:
            self.add_error("range", "Choose Custom to use From and To, or empty them.")
        elif since and until and until <= since:
            self.add_error("until", "The end must be after the start.")
        elif cleaned.get("range") == "custom" and not (since or until) and not self.has_error("since"):
            self.add_error("since", "Enter a start, an end or both for a custom time range.")
        return cleaned


def _query(values: dict[str, str]) -> str:
    return urlencode({name: value for name, value in values.items() if value})


@dataclass
class Chip:
    label: str
    remove_url: str


@dataclass
class LogFiltering:
    """The filters of one request of the logs table, and what the management API makes of them."""

    environment: str
    size: int
    form: LogFiltersForm
    raw: dict[str, str]
    # None until the management API's answer says whether it takes filters.
    supported: bool | None = None
    total_is_lower_bound: bool = False
    # Whether the page shown was counted from the oldest row (a capped count's deep end).
    from_oldest: bool = False
    # Where the table is, for the live check: its page, and the id of the newest row it shows.
    page: int = 1
    newest: str = ""
    api_filters: dict[str, str] = field(default_factory=dict)
    view: str = ""

    @classmethod
    def from_query(cls, query: QueryDict, environment: str, size: int, now: datetime | None = None) -> "LogFiltering":
        raw = {name: query.get(name, "").strip() for name in FILTER_NAMES if query.get(name, "").strip()}
        form = LogFiltersForm(raw, auto_id="filter-%s", label_suffix="")
        view = DELIVERIES_VIEW if query.get("view") == DELIVERIES_VIEW else ""
        filtering = cls(environment=environment, size=size, form=form, raw=raw, view=view)
        if form.is_valid():
            filtering.api_filters = filtering._api_filters(now or timezone.now())
        return filtering

    @property
    def invalid(self) -> bool:
        return not self.form.is_valid()

    @property
    def active(self) -> bool:
        return bool(self.raw)

    def _api_filters(self, now: datetime) -> dict[str, str]:
        data = self.form.cleaned_data
        filters = {name: data[name] for name in ("status", "type", "event", "project_id", "delivery_id") if data[name]}
        if data["range"] in PRESETS:
            filters["created_after"] = as_utc_text(now - PRESETS[data["range"]][1])
        else:
            if data["since"]:
                filters["created_after"] = as_utc_text(data["since"])
            if data["until"]:
                filters["created_before"] = as_utc_text(data["until"])
        return filters

    def fetch_page(
        self, api: ManagementApi, offset: int, limit: int, fields: Sequence[str] = (), from_oldest: bool = False
    ) -> dict[str, Any]:
        """The page, with only `fields` of each row if the API takes that (whole rows otherwise).

        `from_oldest`: the offset counts from the oldest row, which only a filtered count that
        stopped (total_is_lower_bound) needs; `from_oldest` is then whether the API did so."""
        data = self._fetch_page(api, offset, limit, fields, from_oldest)
        self.from_oldest = data["pagination"].get("end") == "oldest"
        # Pages counted from the oldest are negative: -1 is the last (logs_table.load_page).
        self.page = -(offset // limit + 1) if self.from_oldest else offset // limit + 1
        self.newest = str(data["items"][0].get("id", "")) if data["items"] else ""
        return data

    def _fetch_page(
        self, api: ManagementApi, offset: int, limit: int, fields: Sequence[str], from_oldest: bool
    ) -> dict[str, Any]:
        """One page of the logs, filtered only by an API that says it takes the filters: one
        that does not would ignore or refuse them, and the table would claim to be filtered."""
        if not self.api_filters:
            data = api.logs(self.environment, offset=offset, limit=limit, fields=fields)
            self.supported = isinstance(data["pagination"].get("filters"), list)
            return data
        if not set(self.api_filters) <= api.log_filters_supported(self.environment):
            self.supported = False
            return api.logs(self.environment, offset=offset, limit=limit, fields=fields)
        self.supported = True
        data = api.filtered_logs(self.environment, offset, limit, self.api_filters, fields, from_oldest)
        self.total_is_lower_bound = bool(data["pagination"].get("total_is_lower_bound"))
        return data

    # What the templates show.

    @property
    def kept(self) -> dict[str, str]:
        """What every link keeps besides the filters: the view."""
        return {"view": self.view} if self.view else {}

    @property
    def query(self) -> str:
        """The filters as a query string, for the links that keep them (pager, size, export)."""
        return _query({**(self.raw if self.supported is not False else {}), **self.kept})

    @property
    def link_query(self) -> str:
        """The same, to append to a link that has a query string already."""
        return f"&{self.query}" if self.query else ""

    @property
    def passthrough(self) -> list[tuple[str, str]]:
        """The filters as hidden fields, for the forms that keep them (page size)."""
        return list({**(self.raw if self.supported is not False else {}), **self.kept}.items())

    @property
    def bar_fields(self) -> list[forms.BoundField]:
        return [self.form[name] for name in BAR_FILTERS]

    @property
    def more_fields(self) -> list[forms.BoundField]:
        return [self.form[name] for name in FILTER_NAMES if name not in BAR_FILTERS]

    @property
    def more_open(self) -> bool:
        """A filter behind "More filters" is set (a custom time range's From and To are there)."""
        return any(name not in BAR_FILTERS for name in self.raw) or self.raw.get("range") == "custom"

    @property
    def label(self) -> str:
        return self.environment.capitalize()

    @property
    def live_baseline(self) -> bool:
        """Past page 1 (or counted from the oldest row) the newest row shown is not the newest
        there is: learn that one first."""
        return self.page != 1

    def live_check_url_for(self, newest: str | None) -> str:
        values = {"page": str(self.page), "size": str(self.size)}
        query = urlencode(values if newest is None else {**values, "newest": newest})
        return f"{reverse('new_deliveries', args=[self.environment])}?{query}{self.link_query}"

    @property
    def live_check_url(self) -> str:
        return self.live_check_url_for(None if self.live_baseline else self.newest)

    @property
    def first_page_url(self) -> str:
        values = {"env": self.environment, "size": str(self.size), **(self.raw if self.supported is not False else {})}
        values.update(self.kept)
        return f"{reverse('logs_section')}?{_query(values)}"

    @property
    def clear_url(self) -> str:
        values = {"env": self.environment, "size": str(self.size), **self.kept}
        return f"{reverse('logs_section')}?{_query(values)}"

    def _named(self) -> list[tuple[tuple[str, ...], str, str]]:
        """Each active filter: the names a chip removes, the chip's text, and the words of the
        empty table's sentence."""
        if self.invalid:
            return []
        data = self.form.cleaned_data
        named: list[tuple[tuple[str, ...], str, str]] = []
        if data["status"]:
            named.append(
                (("status",), f"Status: {STATUS_NAMES[data['status']]}", f"status {STATUS_NAMES[data['status']]}")
            )
        if data["type"]:
            named.append((("type",), f"Type: {TYPE_NAMES[data['type']]}", f"type {TYPE_NAMES[data['type']]}"))
        if data["event"]:
            named.append((("event",), f"Event: {data['event']}", f"event {data['event']}"))
        if data["project_id"]:
            named.append((("project_id",), f"Project: {data['project_id']}", f"project {data['project_id']}"))
        if data["delivery_id"]:
            named.append((("delivery_id",), f"Delivery: {data['delivery_id']}", f"delivery id {data['delivery_id']}"))
        if data["range"] in PRESETS:
            name = PRESETS[data["range"]][0]
            named.append((("range",), f"Time: {name.removeprefix('the ')}", f"created in {name}"))
        else:
            if data["since"]:
                text = f"{data['since']:%Y-%m-%d %H:%M} UTC"
                named.append((("since",), f"From {text}", f"created from {text}"))
            if data["until"]:
                text = f"{data['until']:%Y-%m-%d %H:%M} UTC"
                named.append((("until",), f"To {text}", f"created before {text}"))
        return named

    @property
    def chips(self) -> list[Chip]:
        chips = []
        for names, label, _ in self._named():
            remaining = {k: v for k, v in self.raw.items() if k not in names}
            # Without its From and To, a custom range is no filter at all.
            if not {"since", "until"} & remaining.keys() and remaining.get("range") == "custom":
                del remaining["range"]
            values = {"env": self.environment, "size": str(self.size), **remaining, **self.kept}
            chips.append(Chip(label, f"{reverse('logs_section')}?{_query(values)}"))
        return chips

    @property
    def empty_sentence(self) -> str:
        words = [phrase for _, _, phrase in self._named()]
        if len(words) > 1:
            return ", ".join(words[:-1]) + " and " + words[-1]
        return words[0] if words else ""
