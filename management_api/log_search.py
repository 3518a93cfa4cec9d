"""Pages of the delivery log, filtered or not: which rows, in what order, and how many, without
scanning millions.

Rows sort by their time, newest first, with the sequence number breaking ties (a history seeded
after today's deliveries must not push them down the list). A page walks one of WebhookLog's
(environment, [<filter>,] created_at, seq) indexes, reading only seq numbers until it has the
page, then reads the page's rows by seq, in one query. The walk starts from whichever end of the
list is nearer when the total is known, so the last page costs what the first does.

Unfiltered, the total is the environment's numbering (no COUNT). Filtered, it is a COUNT that stops
COUNT_CAP rows past the offset: past that it is a lower bound, and the oldest rows are reached
from the other end (`from_oldest`), counted from the oldest row.
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


# Newest first by time; seq breaks ties, so the order is total and a row is on exactly one page.
NEWEST_FIRST = ("-created_at", "-seq")
OLDEST_FIRST = ("created_at", "seq")


@dataclass
class LogPage:
    rows: list[Any]
    total: int
    total_is_lower_bound: bool


def nearer_end(offset: int, limit: int, total: int, lower_bound: bool, from_oldest: bool) -> tuple[bool, int, int]:
    """Where to walk for the `limit` rows `offset` from one end: from that end, or, when the total
    is exact and the other end is nearer, the same rows counted from there. Returns the end walked
    from (True: the oldest) and the slice to take from it."""
    start, stop = offset, offset + limit
    if not lower_bound and start * 2 > total:
        return not from_oldest, max(0, total - stop), max(0, total - start)
    return from_oldest, start, stop


def log_page(
    environment: str,
    log_filter: LogFilter,
    offset: int,
    limit: int,
    fields: Sequence[str] = (),
    from_oldest: bool = False,
) -> LogPage:
    """The `limit` rows `offset` rows from the newest (or, `from_oldest`, from the oldest), listed
    newest first: models, or dicts of `fields` when given."""
    kept = max(LogSequence.of(environment).total, 0)
    # No environment has more rows than its sequence numbered, so a larger offset is past the end;
    # clamping keeps every number sent to the database inside 64 bits.
    offset = min(offset, kept)
    matching = matching_logs(environment, log_filter)
    if log_filter:
        cap = COUNT_CAP + offset
        total = matching.values("seq")[: cap + 1].count()
        lower_bound = total > cap
    else:
        total, lower_bound = kept, False
    from_oldest, start, stop = nearer_end(offset, limit, total, lower_bound, from_oldest)
    if stop <= start:
        return LogPage(rows=[], total=total, total_is_lower_bound=lower_bound)
    walk = matching.order_by(*(OLDEST_FIRST if from_oldest else NEWEST_FIRST)).values("seq")[start:stop]
    # The page's rows by their numbers, put in order here: asked to order them itself, SQLite walks
    # the environment's whole time index to avoid sorting a page (150 ms at a million rows).
    on_page = WebhookLog.objects.filter(environment=environment, seq__in=walk).order_by()
    if not fields:
        return LogPage(
            rows=sorted(on_page, key=_time_order, reverse=True), total=total, total_is_lower_bound=lower_bound
        )
    extra = [name for name in ("created_at", "seq") if name not in fields]
    rows = sorted(on_page.values(*fields, *extra), key=_time_order, reverse=True)
    for row in rows:
        for name in extra:
            del row[name]
    return LogPage(rows=rows, total=total, total_is_lower_bound=lower_bound)


def _time_order(row: Any) -> tuple[Any, int]:
    """NEWEST_FIRST, reversed, for a model or a dict of values."""
    return (row["created_at"], row["seq"]) if isinstance(row, dict) else (row.created_at, row.seq)
