"""What the project's two HTTP clients share: a total deadline per call, and a capped read of the answer.

The delivery sender (management_api/sender.py) and the portal's client of an upstream management
API (webhooks_app/client.py) both talk to servers they do not control. requests' timeouts apply to
each socket operation, so a server that sends one byte a second never trips them. Here one watchdog
thread per process cuts a call's sockets at its deadline wherever the call is stuck (connecting,
the TLS handshake, a status line or headers trickled a byte at a time, the body), and the body is
read a bounded piece at a time, never more than a cap, decompressed size included.

Usage: a session whose adapter is a CuttableAdapter (or a subclass), and within
`with deadline(at) as cut:` the call (`send_once`) and `read_capped`. `cut` is set when the
watchdog fired.
"""

import contextlib
import contextvars
import itertools
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import DecodeError, ReadTimeoutError
from urllib3.response import BaseHTTPResponse

# The sockets the current call opened or reused, so that its deadline can cut them.
_call_sockets: contextvars.ContextVar[list[socket.socket] | None] = contextvars.ContextVar(
    "outbound_call_sockets", default=None
)


def _note(sock: socket.socket) -> None:
    sockets = _call_sockets.get()
    if sockets is not None:
        sockets.append(sock)


class CuttableConnection(HTTPConnection):
    """A connection whose sockets the deadline of the call using it can cut.

    urllib3 has no public hook for the socket it opens: `_new_conn` is overridden
    (tests/management_api/test_urllib3_contract.py fails loudly if an upgrade stops calling it).
    """

    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        _note(sock)
        return sock

    def request(self, *args: Any, **kwargs: Any) -> None:
        # A kept-alive connection was opened by an earlier call: this call's deadline must be able
        # to cut it too. (A new connection is noted by _new_conn, on its way out.)
        if self.sock is not None:
            _note(self.sock)
        super().request(*args, **kwargs)


class CuttableHTTPSConnection(CuttableConnection, HTTPSConnection):
    pass


class CuttableHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = CuttableConnection


class CuttableHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = CuttableHTTPSConnection


class CuttableAdapter(HTTPAdapter):
    """requests' adapter with pools of cuttable connections; a subclass may name its own pools."""

    pool_classes: dict[str, type[HTTPConnectionPool]] = {
        "http": CuttableHTTPConnectionPool,
        "https": CuttableHTTPSConnectionPool,
    }

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = self.pool_classes


def _cut_all(sockets: list[socket.socket], fired: threading.Event) -> None:
    fired.set()
    for sock in list(sockets):
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


class _Watchdog:
    """One thread per process that cuts the sockets of every call past its deadline.

    A threading.Timer per call would start a thread per call, which costs about as much as a
    whole delivery to a receiver that answers at once.
    """

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._armed: dict[int, tuple[float, list[socket.socket], threading.Event]] = {}
        self._keys = itertools.count()
        self._thread: threading.Thread | None = None
        self._wakes_at = float("inf")

    def arm(self, deadline: float, sockets: list[socket.socket], fired: threading.Event) -> int:
        """Cut `sockets` (and set `fired`) at `deadline` (time.monotonic()) unless disarmed first."""
        with self._condition:
            if self._thread is None or not self._thread.is_alive():  # not started, or lost in a fork
                self._thread = threading.Thread(target=self._run, name="outbound-deadlines", daemon=True)
                self._thread.start()
            key = next(self._keys)
            self._armed[key] = (deadline, sockets, fired)
            if deadline < self._wakes_at:
                self._condition.notify()
            return key

    def disarm(self, key: int) -> None:
        with self._condition:
            self._armed.pop(key, None)

    def _run(self) -> None:
        with self._condition:
            while True:
                now = time.monotonic()
                for key, (deadline, sockets, fired) in list(self._armed.items()):
                    if deadline <= now:
                        del self._armed[key]
                        _cut_all(sockets, fired)
                self._wakes_at = min((deadline for deadline, _, _ in self._armed.values()), default=float("inf"))
                self._condition.wait(None if self._wakes_at == float("inf") else self._wakes_at - now)


_watchdog = _Watchdog()


@contextlib.contextmanager
def deadline(at: float) -> Iterator[threading.Event]:
    """Cut, at `at` (time.monotonic()), every socket that a cuttable connection opens or reuses in
    this block; the event yielded is set once that happened."""
    sockets: list[socket.socket] = []
    fired = threading.Event()
    token = _call_sockets.set(sockets)
    key = _watchdog.arm(at, sockets, fired)
    try:
        yield fired
    finally:
        _watchdog.disarm(key)
        _call_sockets.reset(token)


def send_once(
    session: requests.Session, request: requests.PreparedRequest, timeout: tuple[float, float]
) -> requests.Response:
    """The answer's status and headers, its body left to read (read_capped), no redirect followed.

    Straight to the session's adapter: Session.send reads the whole body of a redirect (to free its
    connection), whatever `stream` and `allow_redirects` say, so a 302 could bring any size.
    https://requests.readthedocs.io/en/latest/api/#requests.adapters.HTTPAdapter.send
    """
    return session.get_adapter(request.url or "").send(request, stream=True, timeout=timeout)


class DeadlinePassed(Exception):
    pass


class UndecodableBody(Exception):
    """The body does not decompress as its Content-Encoding says."""


def read_capped(response: BaseHTTPResponse, cap: int, deadline: float) -> tuple[bytes, bool]:
    """At most `cap` bytes of the body, and whether there was more; DeadlinePassed at `deadline`
    (time.monotonic()) even if the server trickles bytes.

    The cap applies to decompressed bytes, read a bounded piece at a time, so a small gzip bomb
    never grows past it in memory. Other faults of the connection (urllib3's ProtocolError, an
    OSError) are left to the caller.
    """
    chunks: list[bytes] = []
    size = 0
    while size <= cap:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise DeadlinePassed
        sock = getattr(response.connection, "sock", None)
        if sock is not None:
            sock.settimeout(remaining)
        try:
            chunk = response.read1(min(65536, cap + 1 - size), decode_content=True)
        except (TimeoutError, ReadTimeoutError) as e:
            raise DeadlinePassed from e
        except DecodeError as e:
            raise UndecodableBody from e
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    data = b"".join(chunks)
    return data[:cap], len(data) > cap
