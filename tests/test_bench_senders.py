"""The latency part's senders (`benchmarks/bench.py senders`), run as the bench runs them, against a
real TLS server on 127.0.0.1 that answers the ways nginx may (a length, chunks, `Connection: close`,
an error) and a plain receiver for the floor's POSTs: what they report is what was sent and answered.
"""

import json
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from tests.nginx import self_signed_certificate

BENCH = Path(__file__).resolve().parent.parent / "benchmarks" / "bench.py"
ALERTS = 12
FAILING_SLOT = 3


class Seen:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.connections = 0
        self.requests: list[tuple[str, str, dict[str, str], bytes]] = []


@contextmanager
def serving(seen: Seen, tls: ssl.SSLContext | None = None, raw: list[bytes] | None = None) -> Iterator[int]:
    """An HTTP/1.1 server with keep-alive. An alert's slot (its payload's "n") says how it is
    answered: 1 mod 4 in chunks, 2 mod 4 with `Connection: close`, FAILING_SLOT with a 500; or,
    given `raw`, with raw[n] as it is, the connection closed after it."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            with seen.lock:
                seen.connections += 1

        def answer(self, status: int, body: bytes, chunked: bool = False, close: bool = False) -> None:
            self.send_response(status)
            if close:
                self.send_header("Connection", "close")
                self.close_connection = True
            if chunked:
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                for part in (body[:7], body[7:]):
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
                self.wfile.write(b"0\r\n\r\n")
            else:
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        def do_GET(self) -> None:
            with seen.lock:
                seen.requests.append(("GET", self.path, dict(self.headers), b""))
            self.answer(200, b"ok")

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            with seen.lock:
                seen.requests.append(("POST", self.path, dict(self.headers), body))
            if self.headers.get("AutoQL-Delivery-Id"):  # the floor's receiver
                self.answer(200, b'{"received": true}')
                return
            n = json.loads(body)["payload"]["n"]
            if raw is not None:
                self.wfile.write(raw[n])
                self.close_connection = True
                return
            if n == FAILING_SLOT:
                self.answer(500, b"boom")
                return
            answer = json.dumps({"data": {"delivery_id": f"delivery-{n}"}}).encode()
            self.answer(202, answer, chunked=n % 4 == 1, close=n % 4 == 2)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    if tls:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_port
    finally:
        server.shutdown()
        server.server_close()


def tls_serving(folder: Path) -> tuple[Path, ssl.SSLContext]:
    certificate, key = self_signed_certificate(folder)
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(certificate, key)
    return certificate, tls


def senders(plan: dict[str, Any]) -> list[list[Any]]:
    run = subprocess.run(
        [sys.executable, str(BENCH), "senders"], input=json.dumps(plan), capture_output=True, text=True, timeout=90
    )
    assert run.returncode == 0, run.stderr
    return [json.loads(line) for line in run.stdout.splitlines()]


def test_the_senders_report_every_answer_as_it_was_given(tmp_path):
    certificate, tls = tls_serving(tmp_path)
    api, floor = Seen(), Seen()
    alerts = [{"event": "data_alert.true", "payload": {"n": n}} for n in range(ALERTS)]
    with serving(api, tls) as api_port, serving(floor) as floor_port:
        plan = {
            "host": "127.0.0.1",
            "port": api_port,
            "certificate": str(certificate),
            "path": "/events?key=the-key",
            "token": "the-token",
            "alerts": alerts,
            "rate": 200.0,
            "connections": 2,
            "floor_url": f"http://127.0.0.1:{floor_port}/hook",
            "floor_rate": 100.0,
            "floor_count": 3,
        }
        lines = senders(plan)
    kinds = [line[0] for line in lines]
    assert kinds[0] == "began" and kinds[-1] == "ended"
    began, ended = lines[0][1], lines[-1][1]

    accepted = {line[1]: line[2:] for line in lines if line[0] == "accepted"}
    # Every 202 is reported with its own delivery id, whichever way it came (chunks, a length, a
    # connection the server closed after it), timed between the schedule's start and its end.
    assert sorted(accepted) == [n for n in range(ALERTS) if n != FAILING_SLOT]
    for n, (delivery_id, answered_at, _late_ms) in accepted.items():
        assert delivery_id == f"delivery-{n}"
        assert began - 1 < answered_at <= ended
    assert [line[1:] for line in lines if line[0] == "error"] == [["HTTP 500: boom"]]

    posts = [request for request in api.requests if request[0] == "POST"]
    assert len(posts) == ALERTS
    for _, path, headers, body in posts:
        assert path == "/events?key=the-key"
        assert headers["Authorization"] == "Bearer the-token"
        assert json.loads(body) in alerts
    # Two connections answered /healthz before the schedule. After each `Connection: close` (slots
    # 2, 6 and 10) its sender opened another for its next alert: slot 10's may have had none left.
    assert [request[1] for request in api.requests if request[0] == "GET"] == ["/healthz", "/healthz"]
    assert api.connections - 2 in (2, 3)

    assert [line[1] for line in lines if line[0] == "floor"] == [0, 1, 2]
    assert [request[2]["AutoQL-Delivery-Id"] for request in floor.requests] == ["floor-0", "floor-1", "floor-2"]
    assert floor.connections == 1  # kept open between the floor's POSTs


def well_formed(n: int) -> bytes:
    body = json.dumps({"data": {"delivery_id": f"delivery-{n}"}}).encode()
    return b"HTTP/1.1 202 Accepted\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)


HEADER = st.sampled_from(
    [
        *(b"Content-Length: " + length for length in (b"5", b"99999", b"-1", b"x")),
        *(b"Transfer-Encoding: chunked", b"Connection: close", b"X: \xff\xfe", b"no colon", b""),
    ]
)
STATUS = st.sampled_from([b"HTTP/1.1 202 Accepted", b"HTTP/1.1 500 Oops", b"HTTP/1.1 100 Continue", b"HTTP/1.1"])
LOOKS_LIKE_HTTP = st.builds(
    lambda status, headers, body: status + b"\r\n" + b"".join(h + b"\r\n" for h in headers) + b"\r\n" + body,
    STATUS,
    st.lists(HEADER, max_size=4),
    st.binary(max_size=40) | st.sampled_from([b"5\r\nabcde\r\n0\r\n\r\n", b"zz\r\n", b"{}", b'{"data": 1}']),
)
# None: a well-formed 202 for that alert.
ANSWERS = st.lists(st.none() | st.binary(max_size=120) | LOOKS_LIKE_HTTP, min_size=1, max_size=6)


@hypothesis_settings(
    max_examples=15, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck)
)
@given(answers=ANSWERS)
def test_whatever_the_stack_answers_every_alert_is_reported_once(tmp_path_factory, answers):
    certificate, tls = tls_serving(tmp_path_factory.mktemp("tls"))
    raw = [well_formed(n) if answer is None else answer for n, answer in enumerate(answers)]
    with serving(Seen(), tls, raw=raw) as port:
        lines = senders(
            {
                "host": "127.0.0.1",
                "port": port,
                "certificate": str(certificate),
                "path": "/events",
                "token": "t",
                "alerts": [{"payload": {"n": n}} for n in range(len(answers))],
                "rate": 500.0,
                # A connection for each alert: each sender takes one slot as the schedule starts,
                # so no alert is sent down a connection a raw answer has left in any state.
                "connections": len(answers),
                "floor_url": "http://127.0.0.1:9/unused",
                "floor_rate": 1.0,
                "floor_count": 0,
            }
        )
    assert [line[0] for line in lines][:: len(lines) - 1] == ["began", "ended"]
    accepted = {line[1]: line[2] for line in lines if line[0] == "accepted"}
    errors = [line for line in lines if line[0] == "error"]
    # Each alert is reported once, accepted or failed, and the well-formed 202s are accepted.
    assert len(accepted) + len(errors) == len(answers)
    assert accepted == {n: f"delivery-{n}" for n, answer in enumerate(answers) if answer is None}
