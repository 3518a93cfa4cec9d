"""Whatever a receiver answers, the attempt is logged, its schedule goes on, and nothing answers 500.

Property-based: hypothesis makes the answers (status line, headers, body bytes: JSON that Python
reads but no database stores, bytes that are not UTF-8, broken compression, ...), and a raw socket
server on 127.0.0.1 (tests/hostile.py) sends each one as it is, to Test Connection through the
portal and to the worker's dispatcher. Examples are bounded and derandomised, so CI runs the same
ones every time, on SQLite and on PostgreSQL.
"""

import gzip
import json
import zlib
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission, User
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from management_api import delivery as deliveries
from management_api.models import Delivery, Webhook, WebhookLog
from tests.hostile import answer, raw_receiver

pytestmark = pytest.mark.usefixtures("allow_loopback")

SCHEDULE = [600, 3600]
BOUNDED = hypothesis_settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)

# JSON as receivers write it, and as Python reads it but databases do not store it.
json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
unstorable_literals = st.sampled_from(
    ["NaN", "Infinity", "-Infinity", "1e999", "-1e400", "1" * 120, '"\\u0000"', '"\\ud800"', '"\\udfff x"']
)


@st.composite
def json_texts(draw, unstorable: bool) -> bytes:
    text = json.dumps(draw(json_values))
    if unstorable:
        # A literal that only Python's lenient parser takes, where a value goes.
        text = f'{{"value": {draw(unstorable_literals)}, "rest": {text}}}'
    if draw(st.integers(0, 9)) == 0:
        depth = draw(st.integers(20, 5000))
        text = "[" * depth + text + "]" * depth
    return text.encode()


bodies = st.one_of(
    json_texts(unstorable=True),
    json_texts(unstorable=False),
    st.binary(max_size=300),
    st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.just(b"<html><body>Bad gateway</body></html>"),
)
header_names = st.sampled_from(
    ["Content-Type", "Retry-After", "X-Anything", "Location", "Set-Cookie", "Content-Encoding"]
) | st.from_regex(r"\A[A-Za-z][A-Za-z0-9-]{0,20}\Z")
header_values = st.binary(max_size=60).filter(lambda v: b"\r" not in v and b"\n" not in v)


@st.composite
def answers(draw) -> bytes:
    """One raw HTTP answer: a status line, headers and a body, well formed or not."""
    status = draw(st.sampled_from([200, 201, 204, 299, 302, 400, 410, 429, 500, 503]) | st.integers(100, 999))
    reason = draw(st.binary(max_size=20).filter(lambda r: b"\r" not in r and b"\n" not in r))
    headers = draw(st.lists(st.tuples(header_names, header_values), max_size=6))
    body = draw(bodies)
    encoding = draw(st.sampled_from([None, None, None, None, "gzip", "deflate", "gzip-broken"]))
    lines = [f"HTTP/1.1 {status} ".encode() + reason]
    lines += [name.encode() + b": " + value for name, value in headers if name.lower() != "content-encoding"]
    if encoding == "gzip":
        body = gzip.compress(body)
    elif encoding == "deflate":
        body = zlib.compress(body)
    if encoding:
        lines.append(b"Content-Encoding: " + encoding.removesuffix("-broken").encode())
    if draw(st.booleans()):
        lines.append(f"Content-Length: {len(body)}".encode())
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


@pytest.fixture(autouse=True)
def short_deadline(settings):
    settings.WEBHOOK_DELIVERY_DEADLINE = 1
    settings.WEBHOOK_RETRY_SCHEDULE = SCHEDULE
    settings.TEST_CONNECTION_RATE_LIMIT = "100000/m"


@pytest.fixture
def manager_client(client, db):
    user = User.objects.create_user("maria", password="manager-pass-1")
    user.user_permissions.add(Permission.objects.get(codename="manage_webhooks"))
    client.force_login(user)
    return client


@pytest.fixture
def webhook(db) -> Webhook:
    return Webhook.objects.create(environment="sandbox", url="http://127.0.0.1:1/hook", secret="s" * 43)


def assert_the_row_reads_back(client, log: WebhookLog) -> None:
    # The row is read back whole (the API's one-row call) and shown (an opened row in the tab).
    detail = client.get(f"/webhooks/sandbox/logs/{log.pk}", HTTP_HX_REQUEST="true")
    assert detail.status_code == 200, detail.content[:300]


@BOUNDED
@given(raw=answers())
def test_a_test_connection_logs_any_answer_and_never_answers_500(manager_client, webhook, raw):
    with raw_receiver(answer(raw)) as url:
        Webhook.objects.filter(pk=webhook.pk).update(url=url)
        before = WebhookLog.objects.count()
        response = manager_client.post("/webhooks/sandbox/test", HTTP_HX_REQUEST="true")
    assert response.status_code == 200, response.content[:300]
    assert WebhookLog.objects.count() == before + 1
    log = WebhookLog.objects.order_by("-seq").first()
    assert log is not None and (log.type, log.attempt) == ("test", 1)
    assert Delivery.objects.get(pk=log.delivery_id).state in ("delivered", "failed")
    assert_the_row_reads_back(manager_client, log)


@BOUNDED
@given(raw=answers())
def test_the_worker_logs_any_answer_and_its_schedule_goes_on(manager_client, webhook, raw):
    with raw_receiver(answer(raw)) as url:
        Webhook.objects.filter(pk=webhook.pk).update(url=url, failing_since=None, disabled_at=None)
        queued = deliveries.queue_event("sandbox", "data_alert.true", {"title": "t"}, project_id="p1")
        assert deliveries.deliver_due("sandbox") >= 1
    log = WebhookLog.objects.get(delivery_id=queued.id)
    assert log.attempt == 1
    delivery = Delivery.objects.get(pk=queued.id)
    if log.status == "success":
        assert delivery.state == "delivered"
    elif log.code == 410:
        assert delivery.state == "failed"
    else:
        # The first step of the schedule (600 s ± 20%): logged, and not due again at once.
        assert delivery.state == "pending"
        assert delivery.next_attempt_at is not None
        assert delivery.next_attempt_at > timezone.now() + timedelta(seconds=SCHEDULE[0] * 0.7)
        assert log.next_attempt_at == delivery.next_attempt_at
    assert_the_row_reads_back(manager_client, log)
