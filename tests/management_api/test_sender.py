"""The sender's address policy and fault handling, beyond what test_test_connection covers."""

import ipaddress
import os
import socket
import subprocess
import sys
import threading
import time
import uuid

import pytest

from management_api import sender
from management_api.sender import refusal_reason, send_signed
from tests.receiver import KeepAliveReceiver


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.1.2.3",
        "::1",  # loopback
        "10.0.0.1",
        "172.16.5.4",
        "192.168.1.1",
        "fd00::1",  # private
        "169.254.169.254",
        "fe80::1",  # link-local, cloud metadata
        "100.64.0.1",  # shared address space
        "0.0.0.0",
        "::",  # unspecified
        "224.0.0.1",
        "ff02::1",  # multicast
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "::ffff:169.254.169.254",  # IPv4-mapped
        "2002:7f00:1::1",  # 6to4 of 127.0.0.1
        "240.0.0.1",  # reserved
    ],
)
def test_it_refuses_non_public_addresses(address):
    reason = refusal_reason(address, [])
    assert reason == f"the address {address} is not reachable from AutoQL (private or reserved network)"


@pytest.mark.parametrize("address", ["93.184.215.14", "8.8.8.8", "2606:4700::1111"])
def test_it_allows_public_addresses(address):
    assert refusal_reason(address, []) is None


def test_allowed_networks_open_a_range_and_only_that_range():
    ten = [ipaddress.ip_network("10.0.0.0/8")]
    assert refusal_reason("10.1.2.3", ten) is None
    assert refusal_reason("::ffff:10.1.2.3", ten) is None
    assert refusal_reason("192.168.0.1", ten) is not None


def test_the_address_actually_connected_to_is_checked(monkeypatch, settings, httpserver):
    """A name that resolved to a public address before resolves to loopback at connect time."""
    settings.WEBHOOK_ALLOWED_NETWORKS = []
    httpserver.expect_request("/hook").respond_with_data("ok")
    real_getaddrinfo = socket.getaddrinfo

    def rebinding(host, port, *args, **kwargs):
        if host == "rebind.test":
            return real_getaddrinfo("127.0.0.1", port, *args, **kwargs)
        return real_getaddrinfo(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    result = send_signed(f"http://rebind.test:{httpserver.port}/hook", "s", "test", b"{}", uuid.uuid4())
    assert result.error == "the address 127.0.0.1 is not reachable from AutoQL (private or reserved network)"
    assert len(httpserver.log) == 0


def test_localhost_by_name_is_refused(settings, httpserver):
    settings.WEBHOOK_ALLOWED_NETWORKS = []
    result = send_signed(f"http://localhost:{httpserver.port}/", "s", "test", b"{}", uuid.uuid4())
    assert result.error is not None
    assert "is not reachable from AutoQL (private or reserved network)" in result.error
    assert len(httpserver.log) == 0


def test_an_unresolvable_host_is_said_plainly(settings):
    result = send_signed("http://no-such-host.invalid/hook", "s", "test", b"{}", uuid.uuid4())
    assert result.error == "the host name of http://no-such-host.invalid/hook could not be resolved"
    assert result.success is False


def test_a_trickling_receiver_is_cut_at_the_total_deadline(settings, allow_loopback):
    """Each byte arrives inside the read timeout, but the whole answer would take 4 s."""
    settings.WEBHOOK_DELIVERY_DEADLINE = 1
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    body_bytes_sent = 0

    def trickle():
        nonlocal body_bytes_sent
        conn, _ = server.accept()
        conn.recv(65536)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 40\r\n\r\n")
        for _ in range(40):
            try:
                conn.sendall(b"x")
            except OSError:
                break  # the sender hung up
            body_bytes_sent += 1
            time.sleep(0.1)
        conn.close()

    thread = threading.Thread(target=trickle, daemon=True)
    thread.start()
    result = send_signed(f"http://127.0.0.1:{server.getsockname()[1]}/", "s", "test", b"{}", uuid.uuid4())
    thread.join(10)
    server.close()
    assert result.error == "timed out after 1 s"
    # The sender hung up before the receiver could finish the answer it was trickling.
    assert not thread.is_alive()
    assert body_bytes_sent < 40


def test_retry_after_is_read_in_seconds_and_as_a_date():
    assert sender.retry_after_seconds("120") == 120.0
    assert sender.retry_after_seconds(None) is None
    assert sender.retry_after_seconds("soon") is None
    assert sender.retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0  # a date in the past
    # Odd forms: Unicode digits (isdigit() but not float()), negative, fractions, a date with no zone.
    for odd in ("²", "٣", "-5", "1.5", "1e9", "  ", "Wed, 21 Oct 2015 07:28:00 -0000", "Mon, 99 Foo 99999 99:99:99"):
        assert sender.retry_after_seconds(odd) is None, odd


def test_a_receiver_that_hangs_up_mid_answer_is_said_plainly(allow_loopback):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)

    def hang_up():
        conn, _ = server.accept()
        conn.recv(65536)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\npartial")
        conn.close()

    thread = threading.Thread(target=hang_up, daemon=True)
    thread.start()
    result = send_signed(f"http://127.0.0.1:{server.getsockname()[1]}/", "s", "test", b"{}", uuid.uuid4())
    thread.join(5)
    server.close()
    assert result.success is False
    assert result.error == "the connection broke before the receiver answered"


def test_a_tls_failure_is_said_plainly(allow_loopback, httpserver):
    # An https URL to a plain-HTTP server: the handshake cannot succeed.
    httpserver.expect_request("/").respond_with_data("ok")
    result = send_signed(f"https://127.0.0.1:{httpserver.port}/", "s", "test", b"{}", uuid.uuid4())
    assert result.error == "the TLS handshake with the receiver failed (is its certificate valid?)"


@pytest.mark.parametrize(
    "address",
    [
        "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
        "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
        "64:ff9b:1::a00:1",  # local-use NAT64 of 10.0.0.1
        "64:ff9b:1::808:808",  # local-use NAT64, even of a public address
        "::7f00:1",  # IPv4-compatible 127.0.0.1
        "::808:808",  # IPv4-compatible, deprecated whatever it carries
        "::ffff:0:7f00:1",  # IPv4-translated 127.0.0.1
        "fec0::1",  # site-local
        "2001::1",  # Teredo
        "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
        "2001:2::1",  # benchmarking
        "2001:10::1",  # ORCHID
        "2001:20::1",  # ORCHIDv2
        "2001:db8::1",  # documentation
        "3fff::1",  # documentation
        "100::1",  # discard-only
        "fc00::1",  # unique local
        "2002:a00:1::1",  # 6to4 of 10.0.0.1
        "2002:c0a8:101::1",  # 6to4 of 192.168.1.1
        "64:ff9b::c0a8:101",  # NAT64 of 192.168.1.1
        "192.0.0.1",
        "192.0.0.9",  # IETF protocol assignments, whatever the Python patch level says
        "192.0.2.1",
        "198.51.100.1",
        "203.0.113.1",  # documentation
        "198.18.0.1",  # benchmarking
        "0.1.2.3",  # "this network"
        "255.255.255.255",  # broadcast
        "192.88.99.1",  # 6to4 relay anycast
    ],
)
def test_special_purpose_and_embedded_ipv4_addresses_are_refused(address):
    assert refusal_reason(address, []) == (
        f"the address {address} is not reachable from AutoQL (private or reserved network)"
    )


@pytest.mark.parametrize(
    "address",
    ["64:ff9b::808:808", "2002:808:808::1", "1.1.1.1", "2a00:1450:4001::1"],  # NAT64 and 6to4 of 8.8.8.8
)
def test_public_addresses_in_ipv6_forms_are_allowed(address):
    assert refusal_reason(address, []) is None


def test_a_bad_allowed_network_stops_the_server_with_its_name(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.update(DJANGO_SETTINGS_MODULE="portal.settings", WEBHOOK_ALLOWED_NETWORKS="10.0.0.0/8,10.0.0.300/32")
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'check.sqlite3'}"
    finished = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=sender.settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert finished.returncode != 0
    assert "WEBHOOK_ALLOWED_NETWORKS: '10.0.0.300/32' is not a network" in finished.stderr


@pytest.fixture
def no_kept_connections():
    sender.close_kept_connections()
    yield
    sender.close_kept_connections()


def test_attempts_with_keep_alive_share_one_connection(allow_loopback, no_kept_connections):
    receiver = KeepAliveReceiver()
    try:
        for _ in range(3):
            assert send_signed(receiver.url, "s", "test", b"{}", uuid.uuid4(), keep_alive=True).success
    finally:
        receiver.close()
    assert receiver.connections == 1


def test_a_kept_alive_connection_is_still_cut_at_the_deadline(allow_loopback, no_kept_connections):
    # The second answer comes a byte every 0.2 s: no read ever times out, only the deadline ends it.
    receiver = KeepAliveReceiver(trickle_after=1)
    try:
        first = send_signed(receiver.url, "s", "test", b"{}", uuid.uuid4(), keep_alive=True)
        second = send_signed(receiver.url, "s", "test", b"{}", uuid.uuid4(), keep_alive=True)
    finally:
        receiver.close()
    assert first.success is True
    assert receiver.connections == 1  # the second attempt went over the kept connection
    assert (second.success, second.error) == (False, "timed out after 2 s")


def test_test_connections_never_keep_a_connection(allow_loopback, no_kept_connections):
    receiver = KeepAliveReceiver()
    try:
        for _ in range(3):
            assert send_signed(receiver.url, "s", "test", b"{}", uuid.uuid4()).success
    finally:
        receiver.close()
    assert receiver.connections == 3
