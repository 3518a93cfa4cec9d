"""A raw TCP receiver on 127.0.0.1 that answers whatever bytes a test gives it, valid HTTP or not."""

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

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


def trickle(raw: bytes, every_s: float) -> Behaviour:
    """Send one byte at a time: each arrives well inside any read timeout."""

    def behave(conn: socket.socket, stop: threading.Event) -> None:
        for byte in raw:
            if stop.wait(every_s):
                return
            conn.sendall(bytes([byte]))

    return behave


def hang(conn: socket.socket, stop: threading.Event) -> None:
    stop.wait(30)


def _read_request(conn: socket.socket) -> None:
    conn.settimeout(5)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return
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
            return
        body += chunk


@contextmanager
def raw_receiver(behaviour: Behaviour) -> Iterator[str]:
    """Yields the receiver's URL; every connection gets `behaviour`, then is closed."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    stop = threading.Event()
    threads: list[threading.Thread] = []

    def serve_one(conn: socket.socket) -> None:
        with conn:
            try:
                _read_request(conn)
                behaviour(conn, stop)
            except OSError:
                pass  # the client hung up: exactly what a cut answer leads to

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
        yield f"http://127.0.0.1:{server.getsockname()[1]}/hook"
    finally:
        stop.set()
        acceptor.join(5)
        server.close()
        deadline = time.monotonic() + 5
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
