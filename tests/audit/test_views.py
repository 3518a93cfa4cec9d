"""The Activity page: managers only, filters in the URL, keyset paging, newest first."""

import re
from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEvent
from tests.audit.conftest import ADDRESS

Action = AuditEvent.Action


def event(actor: str = "maria", environment: str = "sandbox", **fields) -> AuditEvent:
    fields.setdefault("action", Action.SECRET_REVEALED)
    return AuditEvent.objects.create(actor=actor, environment=environment, **fields)


def shown_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'data-event="(\d+)"', html)]


def test_a_viewer_gets_the_portals_403_page(viewer_client):
    response = viewer_client.get("/activity/")
    assert response.status_code == 403
    html = response.content.decode()
    assert "Not allowed" in html and "Only managers can see the activity of the portal." in html


def test_a_visitor_must_sign_in(client, db):
    response = client.get("/activity/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_the_top_bar_links_to_activity_for_managers_only(manager_client, viewer_client):
    link = '<a class="topnav-link" href="/activity/">Activity</a>'
    assert link in manager_client.get("/").content.decode()
    assert link not in viewer_client.get("/").content.decode()


def test_an_empty_trail_says_so(manager_client):
    html = manager_client.get("/activity/").content.decode()
    assert "No activity yet." in html


def test_filters_that_match_nothing_say_so(manager_client):
    event(environment="sandbox")
    html = manager_client.get("/activity/?environment=production").content.decode()
    assert "No activity matches these filters." in html and "No activity yet." not in html


def test_a_row_shows_time_who_what_environment_address_and_detail(manager_client):
    moment = datetime(2026, 11, 2, 9, 30, 15, tzinfo=UTC)
    event(
        actor="API key (production)",
        environment="production",
        action=Action.URL_CHANGED,
        address="198.51.100.4",
        detail="https://hooks.example.com/<b>",
        created_at=moment,
    )
    html = manager_client.get("/activity/").content.decode()
    assert '<time datetime="2026-11-02T09:30:15+00:00" title="2026-11-02 09:30:15 UTC" data-local>' in html
    for text in ("API key (production)", "Changed the URL", "Production", "198.51.100.4"):
        assert f">{text}</td>" in html
    # Escaped: details come from callers.
    assert "https://hooks.example.com/&lt;b&gt;" in html


def test_newest_first(manager_client):
    older, newer = event(), event()
    assert shown_ids(manager_client.get("/activity/").content.decode()) == [newer.pk, older.pk]


def test_filter_by_environment_and_by_who(manager_client, viewer):
    sandbox = event(environment="sandbox")
    production = event(environment="production")
    victor = event(actor="victor", environment="production")
    api_key = event(actor="API key (sandbox)")
    assert shown_ids(manager_client.get("/activity/?environment=production").content.decode()) == [
        victor.pk,
        production.pk,
    ]
    assert shown_ids(manager_client.get("/activity/?actor=victor").content.decode()) == [victor.pk]
    both = manager_client.get("/activity/?environment=production&actor=maria").content.decode()
    assert shown_ids(both) == [production.pk]
    assert shown_ids(manager_client.get("/activity/?actor=API+key+(sandbox)").content.decode()) == [api_key.pk]
    # The form keeps the choices.
    assert '<option value="production" selected>Production</option>' in both
    assert '<option value="maria" selected>maria</option>' in both
    assert sandbox.pk not in shown_ids(both)


@pytest.mark.parametrize(
    "query", ["environment=staging", "actor=nobody-at-all", "before=abc", "after=-3", "before=99999999999999999999"]
)
def test_a_bad_filter_is_a_400_with_the_reason(manager_client, query):
    response = manager_client.get(f"/activity/?{query}")
    assert response.status_code == 400
    html = response.content.decode()
    assert 'class="field-error"' in html
    # The filter form is still there to correct it.
    assert '<form class="activity-filters"' in html


def pager_links(html: str) -> dict[str, str]:
    nav = html.split('aria-label="Pages of the activity"')[1].split("</nav>")[0]
    links = re.findall(r'<a [^>]*href="([^"]*)"[^>]*>(\w+)</a>', nav)
    return {name: href.replace("&amp;", "&") for href, name in links}


def test_paging_with_first_previous_next_and_last(manager_client):
    ids = [event().pk for _ in range(60)][::-1]  # newest first
    page = manager_client.get("/activity/").content.decode()
    assert shown_ids(page) == ids[:25]
    links = pager_links(page)
    assert "Previous" not in links and 'aria-disabled="true">Previous' in page
    page = manager_client.get(f"/activity/{links['Next']}").content.decode()
    assert shown_ids(page) == ids[25:50]
    page = manager_client.get(f"/activity/{pager_links(page)['Next']}").content.decode()
    assert shown_ids(page) == ids[50:]
    assert "Next" not in pager_links(page)
    page = manager_client.get(f"/activity/{pager_links(page)['Previous']}").content.decode()
    assert shown_ids(page) == ids[25:50]
    # Last is the oldest 25; First is the newest again.
    last = manager_client.get(f"/activity/{pager_links(page)['Last']}").content.decode()
    assert shown_ids(last) == ids[35:]
    assert "Next" not in pager_links(last)
    assert shown_ids(manager_client.get(f"/activity/{pager_links(last)['First']}").content.decode()) == ids[:25]


def test_paging_keeps_the_filters(manager_client):
    for _ in range(30):
        event(environment="production")
        event(environment="sandbox")
    page = manager_client.get("/activity/?environment=production").content.decode()
    links = pager_links(page)
    assert all("environment=production" in href for href in links.values())
    older = manager_client.get(f"/activity/{links['Next']}").content.decode()
    shown = AuditEvent.objects.filter(pk__in=shown_ids(older))
    assert len(shown_ids(older)) == 5 and {e.environment for e in shown} == {"production"}


def test_a_page_never_counts_the_table(manager_client):
    for _ in range(30):
        event()
    with CaptureQueriesContext(connection) as queries:
        next_page = pager_links(manager_client.get("/activity/").content.decode())["Next"]
        manager_client.get(f"/activity/{next_page}")
        manager_client.get("/activity/?last=on")
    assert not [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]


def test_the_address_column_shows_the_recorded_address(manager_client):
    event(address=ADDRESS)
    assert f'<td data-label="Address" class="mono">{ADDRESS}</td>' in manager_client.get("/activity/").content.decode()
