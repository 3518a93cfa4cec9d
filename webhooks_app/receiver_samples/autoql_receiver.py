"""An AutoQL webhook receiver: Python 3, standard library only.

AUTOQL_WEBHOOK_SECRET='<your secret key>' PORT=8080 python3 autoql_receiver.py
"""

import base64
import hashlib
import hmac
import json
import os
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

SECRET = os.environ["AUTOQL_WEBHOOK_SECRET"]
MAX_AGE_MS = 5 * 60 * 1000
MAX_BODY_BYTES = 1024 * 1024


def verify(secret: str, timestamp: str, signature: str, body: bytes) -> bool:
    """AutoQL-Signature is base64(HMAC-SHA256(secret, timestamp + "." + raw body))."""
    if not timestamp.isascii() or not timestamp.isdigit():
        return False
    if abs(time.time() * 1000 - int(timestamp)) > MAX_AGE_MS:
        return False  # too old (or from the future): a replay, or a clock far off
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).digest()
    expected = base64.b64encode(digest)
    return hmac.compare_digest(expected, signature.encode())


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            self.answer(413, {"error": "body too large"})
            return
        body = self.rfile.read(length)  # the raw bytes: verify before parsing
        timestamp = self.headers.get("AutoQL-Timestamp", "")
        signature = self.headers.get("AutoQL-Signature", "")
        if not verify(SECRET, timestamp, signature, body):
            self.answer(401, {"error": "invalid signature"})
            return
        delivery = json.loads(body)
        # Retries repeat AutoQL-Delivery-Id: skip deliveries you have already handled.
        print(self.headers.get("AutoQL-Delivery-Id"), delivery["event"], json.dumps(delivery["payload"]))
        self.answer(200, {"message": "ok"})

    def answer(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


if __name__ == "__main__":
    server = HTTPServer((os.environ.get("HOST", ""), int(os.environ.get("PORT", "8080"))), Receiver)
    print(f"Listening on port {server.server_address[1]}", flush=True)
    server.serve_forever()
