import json
from datetime import datetime
from typing import Any

from django import template
from django.template import engines
from django.utils.dateparse import parse_datetime
from django.utils.html import escape
from django.utils.safestring import mark_safe

from webhooks_app.contract import MAX_JSON_DEPTH, nests_at_most

register = template.Library()


@register.filter
def pretty_json(value: Any) -> str:
    """A logged response as people read it: indented JSON, or the text as it came."""
    if value is None:
        return "(no response body)"
    if isinstance(value, (dict, list, int, float, bool)):
        return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False)
    return str(value)


@register.filter
def as_datetime(value: str | None) -> datetime | None:
    """The API's ISO 8601 timestamps, as datetimes the date filters can format."""
    return parse_datetime(value) if value else None


@register.filter
def pretty_json_text(value: str) -> str:
    """A JSON document kept as text (a request body), indented when it parses, nests no deeper than
    the templates indent, and holds only text a page can encode (no half surrogate pair)."""
    try:
        parsed = json.loads(value)
    except (TypeError, ValueError, RecursionError):
        return value
    if not nests_at_most(parsed, MAX_JSON_DEPTH):
        return value
    pretty = json.dumps(parsed, indent=2, ensure_ascii=False)
    try:
        pretty.encode("utf-8")
    except UnicodeEncodeError:
        return value
    return pretty


@register.filter
def wrap_at_slashes(value: str) -> str:
    """A URL that a narrow box breaks after its slashes rather than in the middle of a word."""
    # Safe: the text is escaped first, and only <wbr> is added.
    return mark_safe(escape(value).replace("/", "/<wbr>"))


@register.simple_tag(takes_context=True)
def log_rows(context: template.Context) -> str:
    """The logs table's rows, rendered by Jinja2 (webhooks_app/jinja2/webhooks_app/_log_rows.html):
    a page of 100 of them took Django's engine several times as long."""
    rows_template = engines["jinja2"].get_template("webhooks_app/_log_rows.html")
    rows = {name: context.get(name) for name in ("rows", "filtering", "env")}
    # Safe: Jinja2 escaped every value (autoescape, settings.TEMPLATES).
    return mark_safe(rows_template.render(rows))
