"""The sender's address policy and fault handling, beyond what test_test_connection covers."""

import socket
import threading
import time
import uuid

import pytest

from management_api import sender
from management_api.sender import refusal_reason, send_signed


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
    assert reason is not None and reason.endswith("is not allowed; add its network to WEBHOOK_ALLOWED_NETWORKS")


@pytest.mark.parametrize("address", ["93.184.215.14", "8.8.8.8", "2606:4700::1111"])
def test_it_allows_public_addresses(address):
    assert refusal_reason(address, []) is None


def test_allowed_networks_open_a_range_and_only_that_range():
    assert refusal_reason("10.1.2.3", ["10.0.0.0/8"]) is None
    assert refusal_reason("::ffff:10.1.2.3", ["10.0.0.0/8"]) is None
    assert refusal_reason("192.168.0.1", ["10.0.0.0/8"]) is not None


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
    assert result.error == "address 127.0.0.1 is not allowed; add its network to WEBHOOK_ALLOWED_NETWORKS"
    assert len(httpserver.log) == 0


def test_localhost_by_name_is_refused(settings, httpserver):
    settings.WEBHOOK_ALLOWED_NETWORKS = []
    result = send_signed(f"http://localhost:{httpserver.port}/", "s", "test", b"{}", uuid.uuid4())
    assert result.error is not None and "is not allowed" in result.error
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
    assert sender._retry_after_seconds("120") == 120.0
    assert sender._retry_after_seconds(None) is None
    assert sender._retry_after_seconds("soon") is None
    assert sender._retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0  # a date in the past


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
