"""What management_api/sender.py and portal/outbound_http.py rely on in urllib3 and requests,
beyond their public API.

The sender's address check lives in an override of urllib3's private `HTTPConnection._new_conn`,
reads `_dns_host`, and is installed through `HTTPAdapter.init_poolmanager` and the pool manager's
`pool_classes_by_scheme`; the deadline of outbound_http (the sender's and the portal's client's)
overrides `_new_conn` and `request`, to reach a new and a kept-alive socket. If an upgrade renames
or stops calling any of them, the check would silently stop running; these tests fail loudly
instead.
"""

import inspect
import uuid

import urllib3
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from management_api import sender


def test_urllib3_is_the_major_version_the_sender_was_written_for():
    assert urllib3.__version__.split(".")[0] == "2"


def test_the_private_hooks_the_sender_overrides_still_exist():
    for connection_class in (HTTPConnection, HTTPSConnection):
        new_conn = connection_class._new_conn
        assert callable(new_conn)
        assert list(inspect.signature(new_conn).parameters) == ["self"]
    # The override reads the name to resolve from `_dns_host` and connects to what it stores there.
    connection = HTTPConnection("example.com", 80)
    assert connection._dns_host == "example.com"
    connection._dns_host = "192.0.2.1"
    assert connection._dns_host == "192.0.2.1"
    # A kept-alive connection's socket is handed to the deadline's watchdog in an override of
    # `request`, which urllib3 calls for every request, with `sock` still set when it is reused.
    assert "request" in vars(HTTPConnection)
    assert connection.sock is None
    assert HTTPConnectionPool.ConnectionCls is HTTPConnection
    assert HTTPSConnectionPool.ConnectionCls is HTTPSConnection
    assert "init_poolmanager" in vars(HTTPAdapter)


def test_the_sender_installs_its_checked_pools_for_both_schemes():
    adapter = sender._new_session().get_adapter("http://example.com/")
    assert isinstance(adapter, HTTPAdapter)
    pools = adapter.poolmanager.pool_classes_by_scheme
    assert issubclass(pools["http"], HTTPConnectionPool)
    assert issubclass(pools["https"], HTTPSConnectionPool)
    assert issubclass(pools["http"].ConnectionCls, HTTPConnection)
    assert pools["http"].ConnectionCls._new_conn is not HTTPConnection._new_conn


def test_a_connection_to_a_refused_address_never_reaches_the_receiver(settings, httpserver):
    """The override is really called on the way out: a loopback receiver gets nothing."""
    settings.WEBHOOK_ALLOWED_NETWORKS = []
    httpserver.expect_request("/hook").respond_with_data("ok")
    result = sender.send_signed(httpserver.url_for("/hook"), "s" * 43, "test", b"{}", uuid.uuid4())
    assert result.success is False
    assert result.status_code is None
    assert "127.0.0.1" in (result.error or "")
    assert httpserver.log == []
