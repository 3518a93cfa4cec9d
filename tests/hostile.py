"""A raw TCP server on 127.0.0.1 that answers whatever bytes a test gives it, valid HTTP or not:
a webhook receiver, or an upstream management API."""

import contextlib
import socket
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

# What the receiver does with one accepted connection, after reading the request.
Behaviour = Callable[[socket.socket, threading.Event], None]


def answer(raw: bytes) -> Behaviour:
    def behave(conn: socket.socket, stop: threading.Event) -> None:
        conn.sendall(raw)

    return behave


def answer_then_stream(head: bytes, piece: bytes, limit_bytes: int = 64 * 1024 * 1024) -> Behaviour:
    """Send `head`, then `piece` over and over until the client hangs up (or the limit)."""

    def behave(conn: socket.socket, stop: threading.Event) -> None:
        conn.sendall(head)
        sent = 0
        while sent < limit_bytes and not stop.is_set():
            conn.sendall(piece)
            sent += len(piece)

    return behave


@dataclass
class Sent:
    """What a streaming behaviour managed to send, and whether it has stopped."""

    count: int = 0
    stopped: threading.Event = field(default_factory=threading.Event)


def stream_counted(head: bytes, limit_bytes: int, sent: Sent) -> Behaviour:
    """Send `head`, then zeros until the client hangs up (or the limit), counting the bytes."""

    def behave(conn: socket.socket, stop: threading.Event) -> None:
        try:
            conn.sendall(head)
            piece = bytes(64 * 1024)
            while sent.count < limit_bytes and not stop.is_set():
                conn.sendall(piece)
                sent.count += len(piece)
        finally:
            sent.stopped.set()

    return behave


def trickle(raw: bytes, every_s: float) -> Behaviour:
    """Send one byte at a time: each arrives well inside any read timeout."""

    def behave(conn: socket.socket, stop: threading.Event) -> None:
        for byte in raw:
            if stop.wait(every_s):
                return
            conn.sendall(bytes([byte]))

    return behave


def gzip_bomb(decoded_mib: int) -> bytes:
    """A small gzip body that inflates to `decoded_mib` MiB of zeros."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = bytes(1024 * 1024)
    return b"".join(compressor.compress(zeros) for _ in range(decoded_mib)) + compressor.flush()


def hang(conn: socket.socket, stop: threading.Event) -> None:
    stop.wait(30)


def _read_request(conn: socket.socket) -> str:
    """Reads the request; its target (path and query)."""
    conn.settimeout(5)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return ""
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        body += chunk
    request_line = head.split(b"\r\n", 1)[0].decode("latin-1")
    return request_line.split(" ")[1] if request_line.count(" ") == 2 else ""


@contextmanager
def raw_receiver(behaviour: Behaviour) -> Iterator[str]:
    """Yields the receiver's URL; every connection gets `behaviour`, then is closed."""
    with raw_server(lambda target: behaviour) as base_url:
        yield f"{base_url}/hook"


@contextmanager
def raw_server(behaviour_for: Callable[[str], Behaviour]) -> Iterator[str]:
    """Yields the server's base URL; every connection gets the behaviour `behaviour_for` chooses
    for its request's target (path and query), then is closed."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    stop = threading.Event()
    threads: list[threading.Thread] = []

    def serve_one(conn: socket.socket) -> None:
        # OSError: the client hung up, exactly what a cut answer leads to.
        with conn, contextlib.suppress(OSError):
            behaviour_for(_read_request(conn))(conn, stop)

    def accept_loop() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            thread = threading.Thread(target=serve_one, args=(conn,), daemon=True)
            thread.start()
            threads.append(thread)

    acceptor = threading.Thread(target=accept_loop, daemon=True)
    acceptor.start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}"
    finally:
        stop.set()
        acceptor.join(5)
        server.close()
        deadline = time.monotonic() + 5
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
