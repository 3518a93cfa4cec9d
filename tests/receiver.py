"""A webhook receiver as an integrator would write one, for tests to run on 127.0.0.1."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from werkzeug import Request, Response

from management_api.signing import verify


class VerifyingReceiver:
    """Checks AutoQL-Signature with the secret it is given; keeps every request it received."""

    def __init__(self, secret: str = "", status: int = 200, delay: float = 0) -> None:
        self.secret = secret
        self.status = status
        self.delay = delay
        self.received: list[dict] = []

    def __call__(self, request: Request) -> Response:
        body = request.get_data()
        problem = verify(
            self.secret, request.headers.get("AutoQL-Timestamp", ""), request.headers.get("AutoQL-Signature", ""), body
        )
        self.received.append({"headers": dict(request.headers), "body": body, "problem": problem})
        if self.delay:
            time.sleep(self.delay)
        if problem:
            return Response(json.dumps({"error": problem}), status=401, content_type="application/json")
        return Response(json.dumps({"message": "ok"}), status=self.status, content_type="application/json")


class KeepAliveReceiver:
    """An HTTP/1.1 receiver on 127.0.0.1 that keeps connections open and counts them.

    `close_each` answers every request with `Connection: close`; `hang_s` makes each answer wait
    that long (bounded by `close()`); `trickle_after` answers request number N+1 and later one
    byte every 0.2 s, so that only a deadline on the whole attempt can end them.
    """

    def __init__(self, close_each: bool = False, hang_s: float = 0.0, trickle_after: int | None = None) -> None:
        self.connections = 0
        self.received: list[str] = []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                with receiver.lock:
                    receiver.connections += 1

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.lock:
                    receiver.received.append(self.headers.get("AutoQL-Delivery-Id", ""))
                    count = len(receiver.received)
                if trickle_after is not None and count > trickle_after:
                    for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 200:
                        if receiver.stop.wait(0.2):
                            return
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                    return
                if hang_s and receiver.stop.wait(hang_s):
                    return
                body = b'{"received": true}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                if close_each:
                    self.send_header("Connection", "close")
                    self.close_connection = True
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.stop.set()
        self.server.shutdown()
        self.server.server_close()
