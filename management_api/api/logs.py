"""The delivery log: AutoQL's page of rows, and this project's fields, filters, one row and export
(docs/api.md, "Logs: filters, fields, deliveries, recover, stats and export")."""

from typing import Any, Literal

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from ninja import Query, Router, Schema
from pydantic import Field

from audit.trail import Action, is_outside_caller, record
from management_api import export, schemas
from management_api.api.base import (
    ERRORS,
    KEY,
    ApiError,
    AuthenticatedRequest,
    api,
    ok,
)
from management_api.log_search import FILTERS, LogFilter, log_page, matching_logs
from management_api.models import WebhookLog

router = Router()


class LogQuery(Schema):
    offset: int = Field(0, ge=0, description="rows to skip, newest first")
    limit: int = Field(10, ge=1, le=100, description="rows per page, 1 to 100")
    fields: str = Field("", description="only these fields of each row, comma-separated (all when empty)")
    end: Literal["newest", "oldest"] = Field(
        "newest", description="the end `offset` counts from; the page is listed newest first either way"
    )


def sparse_fields(fields: str) -> list[str]:
    """The fields a caller asked for (GET .../logs?fields=id,status), in its order; none is all."""
    names = list(dict.fromkeys(name.strip() for name in fields.split(",") if name.strip()))
    unknown = [name for name in names if name not in schemas.LOG_FIELDS]
    if unknown:
        message = f"fields: no log field is called {unknown[0][:50]!r}; they are: {', '.join(schemas.LOG_FIELDS)}."
        raise ApiError(400, message, {"fields": [message]})
    return names


def sparse_page(request: HttpRequest, rows: list[dict[str, Any]], fields: list[str], pagination: dict) -> HttpResponse:
    """A page of only the asked-for fields, written as LogRow writes them, without building and
    validating a LogRow per row: the point of asking for fewer fields is a cheaper answer."""
    written = [{name: schemas.LOG_FIELDS[name](row[name]) for name in fields} for row in rows]
    return api.create_response(request, ok({"items": written, "pagination": pagination}).value, status=200)


def filtered_pagination(offset: int, limit: int, total: int, lower_bound: bool, from_oldest: bool) -> dict[str, Any]:
    """A filtered page's `pagination` (schemas.FilteredPagination), for the logs and the deliveries."""
    return {
        "offset": offset,
        "limit": limit,
        "total_items": total,
        "total_is_lower_bound": lower_bound,
        "filters": list(FILTERS),
        # Said only when asked: a caller that sees it knows the offset was taken from the oldest.
        **({"end": "oldest"} if from_oldest else {}),
    }


def log_filter(query: schemas.LogFilterQuery) -> LogFilter:
    return LogFilter(**query.model_dump())


@router.get(
    "/webhooks/{environment}/logs",
    response={200: schemas.FilteredLogPageEnvelope, **ERRORS},
    summary="One page of the environment's delivery log, newest first, optionally filtered",
    description="With `fields`, each item holds only the fields named there, in that order, and not"
    ' every field the row schema lists (docs/api.md, "Logs: fields").',
)
def list_logs(
    request: AuthenticatedRequest,
    environment: str,
    paging: Query[LogQuery],
    filters: Query[schemas.LogFilterQuery],
    key: str = KEY,
):
    wanted, fields = log_filter(filters), sparse_fields(paging.fields)
    from_oldest = paging.end == "oldest"
    page = log_page(request.auth, wanted, paging.offset, paging.limit, fields, from_oldest)
    pagination = filtered_pagination(paging.offset, paging.limit, page.total, page.total_is_lower_bound, from_oldest)
    rows: list[Any] = page.rows
    if fields:
        return sparse_page(request, rows, fields, pagination)
    return ok({"items": rows, "pagination": pagination})


@router.get(
    "/webhooks/{environment}/logs/export",
    response={200: None, **ERRORS},
    summary="Every log row that matches the filters, newest first, as CSV or JSON Lines",
    openapi_extra={
        "responses": {
            200: {
                "description": "The file, streamed",
                "content": {
                    content_type: {"schema": {"type": "string"}}
                    for content_type in ("text/csv", "application/x-ndjson")
                },
            }
        }
    },
)
def export_logs(request: AuthenticatedRequest, environment: str, query: Query[schemas.ExportQuery], key: str = KEY):
    logs = matching_logs(request.auth, LogFilter(**query.model_dump(exclude={"format"})))
    filters = {name: str(value) for name, value in request.GET.items() if name not in ("key", "format")}
    chunks = export.export_file(request.auth, logs, query.format, filters)
    response = StreamingHttpResponse(chunks, content_type=export.CONTENT_TYPES[query.format])
    response["Content-Disposition"] = f'attachment; filename="{export.filename(request.auth, query.format)}"'
    return response


def log_or_404(environment: str, log_id: str) -> WebhookLog:
    # Ids are positive 64-bit integers in ASCII digits ("²" and "١" are digits to str.isdigit());
    # anything else names no row and must not reach the database.
    valid = log_id.isascii() and log_id.isdigit() and int(log_id) < 2**63
    log = WebhookLog.objects.filter(environment=environment, pk=int(log_id)).first() if valid else None
    if log is None:
        raise ApiError(404, f"There is no {environment} log row {log_id}.")
    return log


class LogRowEnvelope(schemas.Envelope):
    data: schemas.LogRow


@router.get(
    "/webhooks/{environment}/logs/{log_id}",
    response={200: LogRowEnvelope, **ERRORS},
    summary="One log row, with its request and response (the portal loads it when a row opens)",
)
def get_log(request: AuthenticatedRequest, environment: str, log_id: str, key: str = KEY):
    log = log_or_404(request.auth, log_id)
    if is_outside_caller():
        # A row holds the signature of its attempt; the portal shows rows under its own rules.
        record(Action.LOG_ROW_READ, environment=request.auth, detail=f"Log row {log.pk}")
    return ok(log)
