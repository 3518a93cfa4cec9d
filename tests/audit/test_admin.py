"""The Django admin shows the trail and changes nothing, not even for a superuser."""

import pytest
from django.contrib.auth.models import User

from audit.models import AuditEvent

Action = AuditEvent.Action


@pytest.fixture
def event(db) -> AuditEvent:
    return AuditEvent.objects.create(actor="maria", action=Action.SECRET_REVEALED, environment="sandbox")


def test_the_list_shows_events_with_filters(admin_client, event):
    response = admin_client.get("/admin/audit/auditevent/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Revealed the secret" in html and "maria" in html
    assert "By action" in html and "By environment" in html
    # No add button.
    assert "/admin/audit/auditevent/add/" not in html


def test_nothing_can_be_added_changed_or_deleted(admin_client, event):
    assert admin_client.get("/admin/audit/auditevent/add/").status_code == 403
    assert admin_client.post(f"/admin/audit/auditevent/{event.pk}/delete/", {"post": "yes"}).status_code == 403
    response = admin_client.post(
        f"/admin/audit/auditevent/{event.pk}/change/",
        {"actor": "someone-else", "action": Action.SIGNED_IN, "environment": "production", "detail": "x"},
    )
    assert response.status_code == 403
    admin_client.post(
        "/admin/audit/auditevent/", {"action": "delete_selected", "_selected_action": [event.pk], "post": "yes"}
    )
    event.refresh_from_db()
    assert (event.actor, event.action, event.environment) == ("maria", Action.SECRET_REVEALED, "sandbox")


def test_the_event_page_is_read_only(admin_client, event):
    html = admin_client.get(f"/admin/audit/auditevent/{event.pk}/change/").content.decode()
    assert 'name="_save"' not in html and 'name="actor"' not in html
    assert "maria" in html


def test_staff_without_the_view_permission_do_not_see_it(client, event):
    staff = User.objects.create_user("sam", password="staff-pass-1", is_staff=True)
    client.force_login(staff)
    assert client.get("/admin/audit/auditevent/").status_code == 403
