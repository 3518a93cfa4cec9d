"""Filtered pages of the delivery log: which rows match, and how many, without scanning millions.

An unfiltered page stays the plain index range of `list_logs` (no COUNT, no OFFSET). A filtered
one walks one of WebhookLog's (environment, <filter>, seq) indexes newest first, reading only
seq numbers until it has the page, then fetches the page's rows by seq; its total is a COUNT that
stops at COUNT_CAP + 1 rows.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet

from management_api.models import LogSequence, WebhookLog

# The filters this implementation takes on GET .../logs, as the answer's pagination advertises them.
FILTERS = ("status", "type", "event", "project_id", "delivery_id", "created_after", "created_before")
# A filtered total is exact up to here; past it the answer says it is a lower bound.
COUNT_CAP = 10_000


@dataclass(frozen=True)
class LogFilter:
    status: str | None = None
    type: str | None = None
    event: str | None = None
    project_id: str | None = None
    # Lower-case hex without dashes: 32 digits for one delivery, 8 to 31 for a prefix.
    delivery_id: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None

    def __bool__(self) -> bool:
        return any(value is not None for value in vars(self).values())

    def condition(self) -> Q:
        condition = Q()
        for name in ("status", "type", "event", "project_id"):
            value = getattr(self, name)
            if value is not None:
                condition &= Q(**{name: value})
        if self.delivery_id is not None:
            condition &= delivery_id_condition(self.delivery_id)
        if self.created_after is not None:
            condition &= Q(created_at__gte=self.created_after)
        if self.created_before is not None:
            condition &= Q(created_at__lt=self.created_before)
        return condition


def delivery_id_condition(hex_digits: str, field: str = "delivery_id") -> Q:
    """The rows whose `field` (the log's delivery_id, a Delivery's pk) is the id or starts with it."""
    if len(hex_digits) == 32:
        return Q(**{field: uuid.UUID(hex_digits)})
    # A prefix is the range of ids that start with it: an index range on both databases, where
    # LIKE would need a text cast of the uuid column on PostgreSQL.
    low = uuid.UUID(hex_digits.ljust(32, "0"))
    high = uuid.UUID(hex_digits.ljust(32, "f"))
    return Q(**{f"{field}__gte": low, f"{field}__lte": high})


def matching_logs(environment: str, log_filter: LogFilter) -> QuerySet[WebhookLog]:
    return WebhookLog.objects.filter(Q(environment=environment) & log_filter.condition())


@dataclass
class LogPage:
    rows: list[Any]
    total: int
    total_is_lower_bound: bool


def filtered_page(
    environment: str, log_filter: LogFilter, offset: int, limit: int, fields: Sequence[str] = ()
) -> LogPage:
    """One page of the matching rows, newest first: models, or dicts of `fields` when given."""
    matching = matching_logs(environment, log_filter)
    counted = matching.values("seq")[: COUNT_CAP + 1].count()
    # No environment has more rows than its sequence numbered, so a larger offset is past the end;
    # clamping keeps every number sent to the database inside 64 bits.
    offset = min(offset, max(LogSequence.of(environment).total, 0))
    seqs = list(matching.order_by("-seq").values_list("seq", flat=True)[offset : offset + limit])
    newest_first = WebhookLog.objects.filter(environment=environment, seq__in=seqs).order_by("-seq")
    rows = list(newest_first.values(*fields) if fields else newest_first) if seqs else []
    return LogPage(rows=rows, total=counted, total_is_lower_bound=counted > COUNT_CAP)
