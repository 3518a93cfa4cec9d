"""An AutoQL webhook receiver: Python 3, standard library only.

AUTOQL_WEBHOOK_SECRET='<your secret key>' PORT=8080 python3 autoql_receiver.py

While a secret rolls, hold both, the next one first; a delivery signed with either is accepted:

AUTOQL_WEBHOOK_SECRETS='<next secret>,<current secret>' PORT=8080 python3 autoql_receiver.py
"""

import base64
import hashlib
import hmac
import json
import os
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

# AUTOQL_WEBHOOK_SECRETS (comma-separated) when set, else the one AUTOQL_WEBHOOK_SECRET.
SECRETS = [s.strip() for s in os.environ.get("AUTOQL_WEBHOOK_SECRETS", "").split(",") if s.strip()] or [
    os.environ["AUTOQL_WEBHOOK_SECRET"]
]
MAX_AGE_MS = 5 * 60 * 1000
MAX_BODY_BYTES = 1024 * 1024


def verify(secrets: list[str], timestamp: str, signature: str, body: bytes) -> bool:
    """AutoQL-Signature is base64(HMAC-SHA256(secret, timestamp + "." + raw body)), made with
    one of `secrets`."""
    if not timestamp.isascii() or not timestamp.isdigit():
        return False
    if abs(time.time() * 1000 - int(timestamp)) > MAX_AGE_MS:
        return False  # too old (or from the future): a replay, or a clock far off
    matches = False
    for secret in secrets:  # every one is checked: the time taken says nothing of which matched
        digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).digest()
        matches |= hmac.compare_digest(base64.b64encode(digest), signature.encode())
    return matches


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            self.answer(413, {"error": "body too large"})
            return
        body = self.rfile.read(length)  # the raw bytes: verify before parsing
        timestamp = self.headers.get("AutoQL-Timestamp", "")
        signature = self.headers.get("AutoQL-Signature", "")
        if not verify(SECRETS, timestamp, signature, body):
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
