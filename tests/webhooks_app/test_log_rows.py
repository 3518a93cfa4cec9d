"""The logs table's rows (rendered by Jinja2, webhooks_app/jinja2/): every value escaped, whatever an
upstream API puts in it, and the empty states."""

from django.template.loader import render_to_string

from webhooks_app.logs_table import rows_shown

SCRIPT = "<script>window.__xss = 1</script>"


def item(**fields):
    return {
        "id": "41",
        "project_id": "p1",
        "type": "data_alert",
        "event": "data_alert.true",
        "status": "success",
        "code": 200,
        "created_at": "2026-12-01T10:00:00Z",
        "delivery_id": "0b5d8e8e-5a7b-4c1e-9a55-5f0c2a1d9e01",
        **fields,
    }


def rows_html(rows, **context) -> str:
    return render_to_string("webhooks_app/_log_rows.html", {"rows": rows, "filtering": None, **context}, using="jinja2")


def test_each_row_shows_its_cells_and_links():
    html = rows_html(rows_shown("sandbox", [item()]))
    assert 'aria-controls="log-41"' in html and 'id="log-41"' in html
    assert '<td data-label="Project ID">p1</td>' in html
    assert '<span class="pill pill-ok">success</span>' in html
    assert 'href="/deliveries/0b5d8e8e-5a7b-4c1e-9a55-5f0c2a1d9e01/"' in html and ">0b5d8e8e…</a>" in html
    assert 'data-detail-url="/webhooks/sandbox/logs/41?at=0"' in html


def test_what_an_upstream_sends_is_escaped_in_every_cell():
    hostile = item(**dict.fromkeys(("id", "project_id", "type", "event", "status", "code", "delivery_id"), SCRIPT))
    html = rows_html(rows_shown("sandbox", [hostile]))
    assert "<script>" not in html
    assert html.count("&lt;script&gt;") >= 7
    # A delivery id that is no path segment still makes a link that stays on this portal.
    assert 'href="/deliveries/%3Cscript%3Ewindow.__xss%20%3D%201%3C%2Fscript%3E/"' in html


def test_without_rows_it_says_why():
    assert "No sandbox deliveries yet." in rows_html([], env="sandbox")
