"""portal/inserts.py: new rows of several tables stored all or none, in one statement on PostgreSQL."""

import pytest
from django.db import IntegrityError, connection
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEvent
from management_api.models import Delivery
from portal.inserts import insert_together


def a_delivery() -> Delivery:
    return Delivery(environment="sandbox", type="data_alert", event="data_alert.true", payload={"title": "Ünïcode"})


def test_the_rows_are_stored_as_save_would_store_them(db):
    delivery = a_delivery()
    audit = AuditEvent(action="event_queued", actor="API key (sandbox)", environment="sandbox", address="10.0.0.1")
    with CaptureQueriesContext(connection) as queries:
        insert_together(delivery, audit)
    stored = Delivery.objects.get()
    assert (stored.pk, stored.payload, stored.state, stored.attempts) == (
        delivery.pk,
        {"title": "Ünïcode"},
        "pending",
        0,
    )
    # auto_now_add and auto_now were filled in as save() fills them.
    assert stored.created_at == delivery.created_at and stored.updated_at == delivery.updated_at
    assert AuditEvent.objects.values_list("action", "actor", "address").get() == (
        "event_queued",
        "API key (sandbox)",
        "10.0.0.1",
    )
    assert not delivery._state.adding and delivery._state.db == "default"
    writes = [query["sql"] for query in queries.captured_queries if "INSERT" in query["sql"]]
    if connection.vendor == "postgresql":
        assert len(queries.captured_queries) == 1 and writes[0].startswith("WITH ")
    else:
        assert len(writes) == 2


@pytest.mark.django_db(transaction=True)
def test_when_one_row_fails_none_is_stored():
    # No action: NOT NULL. Outside any transaction, so nothing but insert_together keeps it whole.
    with pytest.raises(IntegrityError):
        insert_together(a_delivery(), AuditEvent(action=None, actor="x"))  # type: ignore[misc]
    assert not Delivery.objects.exists()
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize("count", [1, 3])
def test_one_row_or_several(db, count):
    deliveries = [a_delivery() for _ in range(count)]
    insert_together(*deliveries)
    assert set(Delivery.objects.values_list("pk", flat=True)) == {delivery.pk for delivery in deliveries}


def test_no_row_is_a_mistake(db):
    with pytest.raises(ValueError):
        insert_together()
