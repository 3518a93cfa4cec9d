"""The tab at /: the page, and its parts (each card, the logs) that load on their own."""

import re

from management_api.models import Webhook, WebhookLog
from tests.webhooks_app.conftest import HX, tab_html


def make_logs(count, environment="sandbox"):
    for i in range(count):
        WebhookLog.objects.create(
            environment=environment,
            type="data_alert",
            event="data_alert.true",
            status="failure" if i % 2 else "success",
            code=500 if i % 2 else 200,
            url="https://h.example.com/",
            project_id=f"proj-{i}",
            response={"i": i},
        )


def test_it_requires_login(client, db):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/"


def test_it_shows_both_empty_cards(manager_client):
    html = tab_html(manager_client)
    assert html.count(">Generate Key</a>") == 2
    assert "No Sandbox webhook yet." in html and "No Production webhook yet." in html
    assert "No sandbox deliveries yet." in html


def test_a_card_shows_the_url_and_a_masked_secret(manager_client):
    webhook = Webhook.objects.create(
        environment="production", url="https://prod.example.com/hook", secret="s3cret-value-that-is-long-enough-ABCD"
    )
    html = tab_html(manager_client)
    assert "https://prod.example.com/hook" in html
    assert "••••••••••••ABCD" in html
    assert webhook.secret not in html


def test_the_logs_show_the_six_columns_and_na_for_no_project(manager_client):
    WebhookLog.objects.create(
        environment="sandbox",
        type="test",
        event="test",
        status="success",
        code=200,
        url="https://h.example.com/",
        response={"message": "<ok>"},
    )
    html = tab_html(manager_client, expanded=True)
    for header in ("Project ID", "Type", "Event", "Status", "Code", "Created At"):
        assert f'<th scope="col">{header}</th>' in html
    assert '<td data-label="Project ID">N/A</td>' in html
    # The response is pretty-printed and escaped.
    assert "&quot;message&quot;: &quot;&lt;ok&gt;&quot;" in html


def test_the_page_itself_calls_no_api_and_loads_its_parts(manager_client, settings, closed_port):
    settings.AUTOQL_DOMAIN = f"http://127.0.0.1:{closed_port}"  # nothing answers there
    html = manager_client.get("/?env=production&page=3&size=25").content.decode()
    assert 'hx-get="/webhooks/sandbox/card" hx-trigger="load"' in html
    assert 'hx-get="/webhooks/production/card" hx-trigger="load"' in html
    assert 'hx-get="/logs?env=production&amp;size=25&amp;page=3" hx-trigger="load"' in html
    # Without JavaScript, plain links to the same parts.
    assert '<a href="/webhooks/sandbox/card">Show the Sandbox webhook</a>' in html
    assert '<a href="/logs?env=production&amp;size=25&amp;page=3">Show the logs</a>' in html
    assert "could not" not in html and "Not set up" not in html


def test_the_parts_need_a_login(client, db):
    for url in ("/webhooks/sandbox/card", "/logs?env=sandbox"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/"), url
        # For htmx, a redirect the page itself follows (issue 19): htmx would paste a followed one in.
        response = client.get(url, **HX)
        assert response.status_code == 200 and response["HX-Redirect"].startswith("/accounts/login/"), url
        assert response.content == b"", url


def test_a_card_part_for_htmx_and_as_a_page(manager_client):
    Webhook.objects.create(environment="sandbox", url="https://s.example.com/", secret="y" * 40 + "QRST")
    part = manager_client.get("/webhooks/sandbox/card", **HX).content.decode()
    assert part.lstrip().startswith('<section class="card" id="card-sandbox"') and "<html" not in part
    assert "https://s.example.com/" in part and "••••••••••••QRST" in part
    page = manager_client.get("/webhooks/sandbox/card").content.decode()
    assert "<html" in page and "https://s.example.com/" in page
    assert manager_client.get("/webhooks/staging/card", **HX).status_code == 404


def test_the_logs_part_for_htmx_and_as_a_page(manager_client):
    make_logs(3, "production")
    response = manager_client.get("/logs?env=production", **HX, HTTP_HX_TRIGGER="logs")
    html = response.content.decode()
    assert html.lstrip().startswith('<section class="panel logs" id="logs"')
    assert "card-sandbox" not in html and "<html" not in html
    assert html.count('class="log-row"') == 3
    assert "HX-Push-Url" not in response and "HX-Replace-Url" not in response
    page = manager_client.get("/logs?env=production").content.decode()
    assert "<html" in page and page.count('class="log-row"') == 3


def test_moving_through_the_logs_puts_the_tab_in_the_address_bar(manager_client):
    make_logs(12)
    response = manager_client.get("/logs?env=sandbox&size=10&page=2", **HX)
    assert response["HX-Push-Url"] == "/?env=sandbox&size=10&page=2"


def test_pages_map_onto_offset_and_limit(manager_client):
    make_logs(30)
    html = tab_html(manager_client, "env=sandbox&page=2&size=25")
    assert "Page 2 of 2" in html
    assert html.count('class="log-row"') == 5
    assert ">proj-4<" in html and ">proj-5<" not in html
    for name in ("Next", "Last"):
        assert f'<span class="btn btn-small" role="button" aria-disabled="true">{name}</span>' in html
    for name, page in (("First", 1), ("Previous", 1)):
        link = rf'<a class="btn btn-small" href="/logs\?env=sandbox&amp;size=25&amp;page={page}"[^>]*>{name}</a>'
        assert re.search(link, html)


def test_first_last_and_the_page_jump(manager_client):
    make_logs(45)
    html = tab_html(manager_client, "env=sandbox&page=2&size=10")
    assert re.search(r'href="/logs\?env=sandbox&amp;size=10&amp;page=1"[^>]*>First</a>', html)
    assert re.search(r'href="/logs\?env=sandbox&amp;size=10&amp;page=5"[^>]*>Last</a>', html)
    assert re.search(r'href="/logs\?env=sandbox&amp;size=10&amp;page=3"[^>]*>Next</a>', html)
    assert '<input id="page-jump" name="page" type="number" inputmode="numeric" min="1" max="5" value="2"' in html
    # The jump is a plain GET form: its page lands in the URL.
    jumped = manager_client.get("/logs?env=sandbox&size=10&page=4", **HX)
    assert "Page 4 of 5" in jumped.content.decode() and jumped["HX-Push-Url"] == "/?env=sandbox&size=10&page=4"


def test_bad_paging_parameters_fall_back_to_defaults(manager_client):
    make_logs(12)
    for query in ("page=abc&size=7", "page=-3&size=1000", "page=0&size=x", "env=staging"):
        response = manager_client.get(f"/logs?{query}", **HX)
        assert response.status_code == 200
        html = response.content.decode()
        assert "Page 1 of 2" in html, query


def test_a_page_past_the_end_shows_the_last_page(manager_client):
    make_logs(25)
    response = manager_client.get("/logs?env=sandbox&size=10&page=999", **HX, HTTP_HX_TRIGGER="logs")
    html = response.content.decode()
    assert "Page 3 of 3" in html and "there is no page 999; this is the last" in html
    assert html.count('class="log-row"') == 5
    assert response["HX-Replace-Url"] == "/?env=sandbox&size=10&page=3"
    # From the pager or the jump, the corrected page is pushed instead.
    assert manager_client.get("/logs?env=sandbox&size=10&page=999", **HX)["HX-Push-Url"] == (
        "/?env=sandbox&size=10&page=3"
    )
    # Without JavaScript, a redirect to the last page.
    plain = manager_client.get("/logs?env=sandbox&size=10&page=999")
    assert plain.status_code == 302 and plain["Location"] == "/logs?env=sandbox&size=10&page=3"


def test_the_toggle_marks_the_shown_environment(manager_client):
    html = tab_html(manager_client, "env=production")
    assert 'aria-current="true" class="on">Production</a>' in html
    assert "No production deliveries yet." in html


def test_a_viewer_sees_cards_and_logs_without_actions(viewer_client):
    Webhook.objects.create(environment="sandbox", url="https://h.example.com/", secret="x" * 40 + "WXYZ")
    html = tab_html(viewer_client)
    assert "••••••••••••WXYZ" in html
    for action in (">Reveal<", ">Copy<", ">Test Connection<", ">Regenerate<", ">Delete<", ">Generate Key<"):
        assert action not in html
    assert "viewer" in html


def test_with_the_embedded_api_the_page_brings_its_cards_and_logs_itself(manager_client, settings):
    assert not settings.AUTOQL_DOMAIN
    Webhook.objects.create(environment="sandbox", url="https://s.example.com/", secret="y" * 40 + "QRST")
    make_logs(3)
    html = manager_client.get("/?env=sandbox&size=10").content.decode()
    assert "https://s.example.com/" in html and "••••••••••••QRST" in html
    assert "No Production webhook yet." in html
    assert html.count('class="log-row"') == 3 and "Page 1 of 1" in html
    for part in ('hx-get="/webhooks/sandbox/card"', 'hx-get="/webhooks/production/card"', 'hx-trigger="load" hx-swap'):
        assert part not in html, part
    assert "Loading the" not in html.replace("Loading the details", "").replace("Loading the attempts", "")


def test_with_the_embedded_api_a_page_past_the_end_shows_the_last_and_says_so(manager_client):
    make_logs(25)
    html = manager_client.get("/?env=sandbox&size=10&page=999").content.decode()
    assert "Page 3 of 3" in html and "there is no page 999; this is the last" in html
    assert 'data-replace-url="/?env=sandbox&amp;size=10&amp;page=3"' in html


def test_upstream_the_page_leaves_its_cards_and_logs_to_their_own_requests(manager_client, settings, closed_port):
    settings.AUTOQL_DOMAIN = f"http://127.0.0.1:{closed_port}"
    html = manager_client.get("/").content.decode()
    assert html.count('hx-trigger="load" hx-swap="outerHTML"') == 3
    assert 'class="log-row"' not in html and "Page 1 of" not in html
