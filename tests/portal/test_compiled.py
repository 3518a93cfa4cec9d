"""portal/compiled.py: a query the ORM compiles once, run again with other values, reads and writes
exactly what the queryset it was built from would."""

from datetime import timedelta

import pytest
from django.db.models import F
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from management_api.models import AttemptTally, Delivery, DeliveryState, Webhook
from portal.compiled import CompiledQuery, update_query
from tests import factories

STAND_IN = "\x00stand-in"


def due_of(environment: str):
    return (
        Delivery.objects.filter(environment=environment, state=DeliveryState.PENDING)
        .order_by("next_attempt_at")
        .values_list("next_attempt_at", "payload", "attempts")
    )


def test_rows_are_what_the_queryset_reads_converted_the_same_way(db):
    now = timezone.now()
    factories.delivery(next_attempt_at=now - timedelta(minutes=1))
    factories.delivery(next_attempt_at=now + timedelta(minutes=1))
    factories.delivery(environment="production", next_attempt_at=now)
    compiled = CompiledQuery(due_of, STAND_IN)
    for environment in ("sandbox", "production", "staging"):
        assert compiled.rows(environment) == list(due_of(environment))
    [(at, payload, attempts)] = compiled.rows("production")
    # A date comes back as a datetime in UTC and JSON as what was stored, on SQLite as on PostgreSQL.
    assert (at, payload, attempts) == (now, {"title": "x"}, 0) and timezone.is_aware(at)


def test_the_query_is_built_once_and_its_constants_kept(db, django_assert_num_queries):
    built: list[str] = []

    def build(environment: str):
        built.append(environment)
        return due_of(environment)

    factories.delivery(next_attempt_at=timezone.now())
    factories.delivery(next_attempt_at=timezone.now(), state=DeliveryState.DELIVERED)
    compiled = CompiledQuery(build, STAND_IN)
    for _ in range(3):
        with django_assert_num_queries(1):
            assert len(compiled.rows("sandbox")) == 1  # the state, a constant, still filters
    assert built == [STAND_IN]


@pytest.mark.django_db
@settings(max_examples=60, derandomize=True, database=None, deadline=None)
@given(st.one_of(st.sampled_from(["sandbox", "production", "sandbox' OR '1'='1"]), st.text(max_size=40)))
def test_any_value_is_sent_as_a_parameter_never_written_into_the_sql(value):
    Webhook.objects.get_or_create(environment="sandbox", defaults={"url": "https://hooks.example.com/a"})
    value = value.replace("\x00", "")  # PostgreSQL refuses NUL in text, through the ORM alike
    compiled = CompiledQuery(
        lambda environment: Webhook.objects.filter(environment=environment).values_list("url"), "\x00e"
    )
    assert compiled.rows(value) == list(Webhook.objects.filter(environment=value).values_list("url"))


def test_an_update_changes_what_the_queryset_update_would_and_counts_the_rows(db):
    AttemptTally.objects.create(environment="sandbox", type="data_alert", status="success", le_ms=50, attempts=2)
    AttemptTally.objects.create(environment="sandbox", type="data_alert", status="failure", le_ms=50, attempts=7)
    add = CompiledQuery(
        lambda status, attempts: update_query(
            AttemptTally.objects.filter(status=status), attempts=F("attempts") + attempts
        ),
        "\x00status",
        -2_147_483_001,
    )
    assert add.update("success", 3) == 1
    assert add.update("unknown", 3) == 0
    assert dict(AttemptTally.objects.values_list("status", "attempts")) == {"success": 5, "failure": 7}


def test_a_query_whose_sql_would_depend_on_its_values_is_refused_when_compiled(db):
    # None is written as IS NULL, so the stand-in never becomes a parameter.
    unused = CompiledQuery(lambda environment: Webhook.objects.filter(disabled_at=None).values_list("url"), "\x00e")
    with pytest.raises(ValueError, match="exactly once"):
        unused.rows("sandbox")
    with pytest.raises(ValueError, match="must differ"):
        CompiledQuery(lambda a, b: Webhook.objects.filter(environment=a, url=b), "\x00a", "\x00a")
    compiled = CompiledQuery(lambda environment: Webhook.objects.filter(environment=environment), "\x00e")
    with pytest.raises(TypeError, match="1 values are needed, not 2"):
        compiled.rows("sandbox", "production")
    with pytest.raises(TypeError, match="a read: use rows"):
        compiled.update("sandbox")
