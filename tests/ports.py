"""Ports on 127.0.0.1 for the servers the tests start, and for receivers that are down."""

import socket
from collections.abc import Iterator
from contextlib import contextmanager


def free_port() -> int:
    """A port nobody listens on right now, for a server a test is about to start."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def closed_port() -> Iterator[int]:
    """A port that refuses connections for as long as the block runs.

    The socket stays bound but never listens: connecting to it is refused, and no other
    process can take the port meanwhile.
    """
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        yield s.getsockname()[1]
