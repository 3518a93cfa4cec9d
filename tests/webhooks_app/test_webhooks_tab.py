"""The tab at /: both cards and the logs, full page or (htmx) the logs section alone."""

import re

from management_api.models import Webhook, WebhookLog
from tests.webhooks_app.conftest import HX


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
    html = manager_client.get("/").content.decode()
    assert html.count(">Generate Key</a>") == 2
    assert "No Sandbox webhook yet." in html and "No Production webhook yet." in html
    assert "No sandbox deliveries yet." in html


def test_a_card_shows_the_url_and_a_masked_secret(manager_client):
    webhook = Webhook.objects.create(
        environment="production", url="https://prod.example.com/hook", secret="s3cret-value-that-is-long-enough-ABCD"
    )
    html = manager_client.get("/").content.decode()
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
    html = manager_client.get("/").content.decode()
    for header in ("Project ID", "Type", "Event", "Status", "Code", "Created At"):
        assert f'<th scope="col">{header}</th>' in html
    assert '<td data-label="Project ID">N/A</td>' in html
    # The response is pretty-printed and escaped.
    assert "&quot;message&quot;: &quot;&lt;ok&gt;&quot;" in html


def test_htmx_with_the_logs_target_renders_only_the_logs(manager_client):
    make_logs(3, "production")
    response = manager_client.get("/?env=production", **HX, HTTP_HX_TARGET="logs")
    html = response.content.decode()
    assert html.lstrip().startswith('<section class="panel logs" id="logs"')
    assert "card-sandbox" not in html and "<html" not in html
    assert html.count('class="log-row"') == 3


def test_pages_map_onto_offset_and_limit(manager_client):
    make_logs(30)
    html = manager_client.get("/?env=sandbox&page=2&size=25").content.decode()
    assert "Page 2 of 2" in html
    assert html.count('class="log-row"') == 5
    assert ">proj-4<" in html and ">proj-5<" not in html
    assert '<span class="btn btn-small" role="button" aria-disabled="true">Next</span>' in html
    assert re.search(
        r'<a class="btn btn-small" href="\?env=sandbox&amp;size=25&amp;page=1"[^>]*role="button">Previous</a>', html
    )


def test_bad_paging_parameters_fall_back_to_defaults(manager_client):
    make_logs(12)
    for query in ("page=abc&size=7", "page=-3&size=1000", "page=0&size=x", "env=staging"):
        response = manager_client.get(f"/?{query}")
        assert response.status_code == 200
        html = response.content.decode()
        assert "Page 1 of 2" in html, query


def test_a_page_past_the_end_offers_the_last_page(manager_client):
    make_logs(3)
    html = manager_client.get("/?page=9").content.decode()
    assert "No rows on this page." in html and "Go to the last page" in html


def test_the_toggle_marks_the_shown_environment(manager_client):
    html = manager_client.get("/?env=production").content.decode()
    assert 'aria-current="true" class="on">Production</a>' in html
    assert "No production deliveries yet." in html


def test_a_viewer_sees_cards_and_logs_without_actions(viewer_client):
    Webhook.objects.create(environment="sandbox", url="https://h.example.com/", secret="x" * 40 + "WXYZ")
    html = viewer_client.get("/").content.decode()
    assert "••••••••••••WXYZ" in html
    for action in (">Reveal<", ">Copy<", ">Test Connection<", ">Regenerate<", ">Delete<", ">Generate Key<"):
        assert action not in html
    assert "viewer" in html
